package expr

// ReadsOnly reports whether e's value depends on nothing but the variable
// name: a literal, $name itself, or a simple path, comparison, count(),
// sum(), not() or boolean() over $name. It is conservative: any other
// expression (a context path, another variable, a function call, an
// extension, a concat) reports false. FLAT folds an <template out> that
// reads only $env into a constant with it.
func (e *Expr) ReadsOnly(name string) bool {
	v, ok := e.plainVar()
	return ok && (v == "" || v == name)
}

// PlainRead reports whether e is a literal, a variable, or a simple path,
// comparison, count(), sum(), not() or boolean() over one variable: its
// evaluation reads that variable and does nothing else (no function call,
// no context node). Such an expression cannot fail; only the run's budget
// can stop it. FLAT skips a <log> made of such values when nothing would
// read its fields.
func (e *Expr) PlainRead() bool {
	_, ok := e.plainVar()
	return ok
}

// plainVar returns the variable e reads when e is a literal ("" then), a
// variable, or a simple path, comparison or aggregate over one variable;
// ok is false for any other expression, a path from the context node
// included.
func (e *Expr) plainVar() (name string, ok bool) {
	switch e.kind {
	case kConst:
		return "", true
	case kVar:
		name = e.name
	case kFastPath:
		name = e.fpath.varName
	case kFastCmp:
		name = e.fcmp.path.varName
	case kFastRel:
		name = e.frel.path.varName
	case kAgg:
		name = e.agg.path.varName
	}
	return name, name != ""
}
