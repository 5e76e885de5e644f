package expr

// ReadsOnly reports whether e's value depends on nothing but the variable
// name: a literal, $name itself, or a simple path, comparison, count(),
// sum(), not() or boolean() over $name. It is conservative: any other
// expression (a context path, another variable, a function call, an
// extension, a concat) reports false. FLAT folds an <template out> that
// reads only $env into a constant with it.
func (e *Expr) ReadsOnly(name string) bool {
	switch e.kind {
	case kConst:
		return true
	case kVar:
		return e.name == name
	case kFastPath:
		return e.fpath.varName == name
	case kFastCmp:
		return e.fcmp.path.varName == name
	case kFastRel:
		return e.frel.path.varName == name
	case kAgg:
		return e.agg.path.varName == name
	}
	return false
}
