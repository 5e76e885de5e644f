package expr

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
