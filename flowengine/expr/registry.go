package expr

import (
	"fmt"
	"sort"
	"sync"
)

// CallFunc is the implementation of an extension function: it receives the
// evaluation context and the evaluated arguments (string, float64, bool or
// NodeSet) and returns a Value. An error aborts the evaluation of the whole
// expression and is returned (wrapped) by Eval.
type CallFunc = func(c *Context, args []Value) (Value, error)

// Func is an extension function callable from expressions.
type Func struct {
	// Name is the function name as written in expressions.
	Name string
	// MinArgs and MaxArgs bound the number of arguments; MaxArgs -1 means
	// variadic. A wrong count is a compile error (diag.BadArity).
	MinArgs, MaxArgs int
	// UsesContext is true when the function reads the context node when it
	// is called without arguments (tolower()). Such calls cannot appear in
	// a predicate.
	UsesContext bool
	// ContextArity is, for a function with UsesContext, the largest number
	// of arguments with which it still reads the context node (0: only
	// when called without arguments; has-class(name) has 1).
	ContextArity int
	// Call implements the function.
	Call CallFunc
	// Bind, when not nil, is called once per call site at compile time with
	// the constant arguments of that site (a string or float64 for a
	// literal argument, nil for any other argument) and returns the
	// implementation to use for that site, e.g. one with a pre-compiled
	// regular expression. A Bind error is a compile error at the call.
	Bind func(consts []Value) (CallFunc, error)

	// str, when set, is Call for exactly one argument as a function of
	// String(args[0]); call sites with one argument use it directly.
	str func(string) string
	// appendStr, when set with str, appends str(s) to dst without
	// building the result string (Expr.AppendString).
	appendStr func(dst []byte, s string) []byte
}

var registry = struct {
	sync.RWMutex
	m map[string]*Func
}{m: map[string]*Func{}}

// Register makes f callable from expressions compiled afterwards. It is
// meant for init functions and panics on a programming error: a nil or
// nameless f, a nil Call, bad arity bounds or a name registered twice.
func Register(f *Func) {
	if f == nil || f.Name == "" || f.Call == nil {
		panic("expr: Register: function needs a Name and a Call")
	}
	if f.MinArgs < 0 || (f.MaxArgs != -1 && f.MaxArgs < f.MinArgs) {
		panic(fmt.Sprintf("expr: Register %s: bad arity bounds %d..%d", f.Name, f.MinArgs, f.MaxArgs))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[f.Name]; dup {
		panic(fmt.Sprintf("expr: Register: function %s registered twice", f.Name))
	}
	registry.m[f.Name] = f
}

// Lookup returns the extension function registered as name.
func Lookup(name string) (*Func, bool) {
	registry.RLock()
	f, ok := registry.m[name]
	registry.RUnlock()
	return f, ok
}

// Funcs returns the names of all registered extension functions, sorted.
func Funcs() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// arityOK reports whether n arguments fit min..max (max -1 = variadic).
func arityOK(n, min, max int) bool {
	return n >= min && (max < 0 || n <= max)
}

func arityText(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d", min)
	case min == max:
		return fmt.Sprintf("%d", min)
	}
	return fmt.Sprintf("%d to %d", min, max)
}
