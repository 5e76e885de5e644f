package expr

import "github.com/flowproc/flowproc/flowengine/oxn"

// ScalarScope is a Scope that can give a scalar reached from a variable by
// plain child steps without building the variable: FLAT's run answers
// $upstream/main/status, which nearly every flow reads after a forward,
// from the upstream's response, while the $upstream tree (all its headers)
// is built only when something else reads it.
//
// It serves callers that only compare the value with a number (a path
// compared with <, <=, > or >=) or write it (a template's {{ ... }}).
// Everything else, node identity included, goes through Var and TreeVar as
// usual, so a ScalarScope must answer exactly what the path over the full
// variable selects: one node, a JSON scalar.
type ScalarScope interface {
	Scope
	// Scalar returns the one node $name/path[0]/path[1]/... selects. ok
	// is false when the scope cannot say cheaply (name is not such a
	// variable, the node is absent or not a scalar); the caller then
	// evaluates the path as usual.
	Scalar(name string, path []string) (v ScalarValue, ok bool)
}

// ScalarValue is a JSON scalar node a ScalarScope gives, without boxing it
// into a Value.
type ScalarValue struct {
	// Type is oxn.String, oxn.Number or oxn.Boolean.
	Type oxn.Type
	// Text is the node's string-value: a string unquoted, a number as a
	// template writes it (encoding/json's form: 200, not 2e2), a boolean
	// true or false.
	Text string
}

// plainSteps returns the step names of fp when it is $var/a/b/... with
// plain child steps only (no position, predicate, wildcard or attribute),
// else nil.
func plainSteps(fp *fastPath) []string {
	if fp.varName == "" || fp.varPos != 0 || fp.none || fp.attr != "" || len(fp.steps) == 0 {
		return nil
	}
	names := make([]string, len(fp.steps))
	for i, st := range fp.steps {
		if st.name == "*" || st.pos != 0 || st.cond != nil {
			return nil
		}
		names[i] = st.name
	}
	return names
}

// scalar asks c's ScalarScope for the node fp selects.
func (fp *fastPath) scalar(c *Context) (ScalarValue, bool) {
	if fp.plain == nil || c.Scope == nil {
		return ScalarValue{}, false
	}
	ss, ok := c.Scope.(ScalarScope)
	if !ok {
		return ScalarValue{}, false
	}
	return ss.Scalar(fp.varName, fp.plain)
}

// Scalar is the node a ScalarScope gives for e when e is a plain path
// $name/a/b/... (see ScalarScope); ok is false for any other expression or
// when the scope cannot say.
func (e *Expr) Scalar(c *Context) (ScalarValue, bool) {
	if e.kind != kFastPath {
		return ScalarValue{}, false
	}
	return e.fpath.scalar(c)
}
