package expr

import "strconv"

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
// variable selects: one node, whose JSON value is v.
type ScalarScope interface {
	Scope
	// Scalar returns the value, a string, float64 or bool, of the one
	// node $name/path[0]/path[1]/... selects: a JSON string, number or
	// boolean. A number must be one whose JSON text is what the template
	// writer writes for the float64 (an integer in the usual range). ok is
	// false when the scope cannot say cheaply (name is not such a
	// variable, the node is absent or not a scalar); the caller then
	// evaluates the path as usual.
	Scalar(name string, path []string) (v Value, ok bool)
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

// scalar asks c's ScalarScope for the value fp selects.
func (fp *fastPath) scalar(c *Context) (Value, bool) {
	if fp.plain == nil || c.Scope == nil {
		return nil, false
	}
	ss, ok := c.Scope.(ScalarScope)
	if !ok {
		return nil, false
	}
	return ss.Scalar(fp.varName, fp.plain)
}

// Scalar is the value a ScalarScope gives for e when e is a plain path
// $name/a/b/... (see ScalarScope); ok is false for any other expression or
// when the scope cannot say.
func (e *Expr) Scalar(c *Context) (Value, bool) {
	if e.kind != kFastPath {
		return nil, false
	}
	return e.fpath.scalar(c)
}

// scalarText is the string-value of the node a ScalarScope's value stands
// for: its JSON text, unquoted for a string.
func scalarText(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
