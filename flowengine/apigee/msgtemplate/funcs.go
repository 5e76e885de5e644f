package msgtemplate

import (
	"strconv"
)

// value is a function argument at run time: a string, or null (an
// unresolved variable or the literal null).
type value struct {
	s    string
	null bool
}

// function is one template function.
type function struct {
	min, max int // argument counts; max -1 = no limit
	// nullable: the function handles null arguments itself (firstnonnull),
	// so an unresolved argument does not count as unresolved.
	nullable bool
	// prepare checks and compiles literal arguments at load; its result is
	// passed to call.
	prepare func(args []arg) (any, error)
	call    func(state any, args []value) (string, error)
}

func (f *function) arity() string {
	switch {
	case f.max < 0:
		return "at least " + strconv.Itoa(f.min) + " arguments"
	case f.min == f.max:
		return strconv.Itoa(f.min) + " arguments"
	}
	return strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max) + " arguments"
}

// functions are Apigee's message-template functions, as listed by the
// Apigee message-template reference and apigeelint's _pluginUtil.js
// FUNCTION_NAMES (project Apigee docs: message templates). Names are case-sensitive;
// xPath also answers to xpath. Each lives in its fn_*.go file.
var functions = map[string]*function{}

func register(name string, f *function) {
	if functions[name] != nil {
		panic("msgtemplate: function " + name + " registered twice")
	}
	functions[name] = f
}

// str is a null-safe argument: "" for null.
func (v value) str() string { return v.s }
