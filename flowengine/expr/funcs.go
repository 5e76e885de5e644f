package expr

import (
	"github.com/flowproc/flowproc/flowengine/dom"
)

// This file holds helpers shared by the extension functions (fn_*.go).

// jsonMaxDepth is the nesting limit of JSON parsed by functions.
const jsonMaxDepth = 512

// argString returns String(args[i]), or "" when there is no such argument.
func argString(args []Value, i int) string {
	if i >= len(args) {
		return ""
	}
	return String(args[i])
}

// argBool returns Bool(args[i]), or def when there is no such argument.
func argBool(args []Value, i int, def bool) bool {
	if i >= len(args) {
		return def
	}
	return Bool(args[i])
}

// firstNode returns the first node of a node-set value, or nil.
func firstNode(v Value) *dom.Node {
	if ns, ok := v.(NodeSet); ok && len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// contextString returns the string-value of the context node ("" without
// one), for functions that default to the context node.
func contextString(c *Context) string {
	if c == nil || !c.hasNode() {
		return ""
	}
	if c.Node == nil {
		return c.Tree.Doc.Tree().StringValue(c.Tree.Index)
	}
	return c.Node.StringValue()
}

// stringFunc registers a function of one string argument returning a
// string.
func stringFunc(name string, f func(string) string) *Func {
	return &Func{Name: name, MinArgs: 1, MaxArgs: 1, Call: func(_ *Context, args []Value) (Value, error) {
		return f(String(args[0])), nil
	}, str: f}
}

// checkEvery is how many iterations a looping function runs between two
// checks of the run's context.
const checkEvery = 1024

// loopCheck returns the run's cancellation error every checkEvery
// iterations (i counts from 0); it costs a mask test otherwise.
func loopCheck(c *Context, i int) error {
	if i&(checkEvery-1) == checkEvery-1 {
		return c.Budget.Err()
	}
	return nil
}

// output charges a built string to the run's output budget.
func output(c *Context, s string) (Value, error) {
	if err := c.Budget.Output(int64(len(s))); err != nil {
		return nil, err
	}
	return s, nil
}

// alias returns a copy of f registered under another name.
func alias(name string, f *Func) *Func {
	g := *f
	g.Name = name
	return &g
}
