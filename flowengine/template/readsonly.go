package template

// ReadsOnly reports whether t's output depends on nothing but the variable
// name: every {{ }} and {{if}} condition is an expression that reads only
// $name (expr.Expr.ReadsOnly), and t has no {{.}}, no {{: }} pairs, no
// locals, loops or withs. Such a template gives the same output for every
// run that sees the same $name, whatever its context. It is conservative:
// false does not mean the output varies.
func (t *Template) ReadsOnly(name string) bool {
	return readsOnly(t.nodes, name)
}

func readsOnly(ns []node, name string) bool {
	for i := range ns {
		n := &ns[i]
		switch n.kind {
		case opText, opComma:
		case opValue:
			if !chainReadsOnly(n.chain, name) {
				return false
			}
		case opIf:
			for _, b := range n.conds {
				if !chainReadsOnly(b.cond, name) || !readsOnly(b.body, name) {
					return false
				}
			}
			if !readsOnly(n.els, name) {
				return false
			}
		default: // {{.}}, pairs, locals, loops and withs read the context
			return false
		}
	}
	return true
}

func chainReadsOnly(c chain, name string) bool {
	for _, p := range c {
		if !p.e.ReadsOnly(name) {
			return false
		}
	}
	return true
}
