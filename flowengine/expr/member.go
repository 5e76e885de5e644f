package expr

import "github.com/flowproc/flowproc/flowengine/dom"

// MemberScope is a Scope that can give a string member of an object
// variable without building the variable, as FLAT's run does for
// `$request/id`: the request's scalars are at hand, while its tree (headers,
// query, cookies, parameters) costs an allocation per exchange.
//
// It serves callers that only write the member's value (a template's
// {{ $request/id }}). Everything else, node identity included, goes through
// Var and TreeVar as usual, so a MemberScope must answer exactly what a
// path over the full variable would select.
type MemberScope interface {
	Scope
	// StringMember returns the value of the string member of $name; ok is
	// false when the scope cannot say so cheaply: $name is not such a
	// variable, the member is absent or not a string. The caller then
	// evaluates the path as usual.
	StringMember(name, member string) (value string, ok bool)
}

// VarMember reports whether e is exactly $name/member: one child step
// with a plain name and no predicate, from a variable. It is the form a
// MemberScope answers.
func (e *Expr) VarMember() (name, member string, ok bool) {
	if e.kind != kFastPath {
		return "", "", false
	}
	fp := e.fpath
	if fp.varName == "" || fp.varPos != 0 || fp.attr != "" || fp.none || len(fp.steps) != 1 {
		return "", "", false
	}
	st := fp.steps[0]
	if st.name == "*" || st.pos != 0 || st.cond != nil {
		return "", "", false
	}
	return fp.varName, st.name, true
}

// MemberNodeScope is a Scope that can find a member of an object variable
// without walking its children: FLAT's $env holds every environment
// variable of the process (hundreds in a Kubernetes pod), and $env/NAME
// would otherwise visit them one by one, a cache miss each on a loaded
// server.
//
// A path $name/member/... (no position on the variable or the first step,
// no predicate on it) starts at the node MemberNode gives, so it must be
// exactly what the first step over the variable's NodeSet selects.
type MemberNodeScope interface {
	Scope
	// MemberNode returns the only child element named member of the
	// variable's one node, nil when there is none; ok is false when the
	// scope cannot say cheaply (the variable is not such an object, or
	// it has several children of that name). The caller then walks the
	// variable as usual.
	MemberNode(name, member string) (n *dom.Node, ok bool)
}
