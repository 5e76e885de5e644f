package template

import "github.com/flowproc/flowproc/flowengine/expr"

// ReadsOnly reports whether t's output depends on nothing but the variable
// name: every {{ }} and {{if}} condition is an expression that reads only
// $name (expr.Expr.ReadsOnly), and t has no {{.}}, no {{: }} pairs, no
// locals, loops or withs. Such a template gives the same output for every
// run that sees the same $name, whatever its context. It is conservative:
// false does not mean the output varies.
func (t *Template) ReadsOnly(name string) bool {
	return allValues(t.nodes, func(e *expr.Expr) bool { return e.ReadsOnly(name) })
}

// PlainReads reports whether every {{ }} and {{if}} condition of t is a
// plain read of a variable (expr.Expr.PlainRead), with no {{.}}, {{: }}
// pairs, locals, loops or withs: running t reads variables and writes
// text, and nothing else can happen but running out of the run's budget.
func (t *Template) PlainReads() bool {
	return allValues(t.nodes, (*expr.Expr).PlainRead)
}

// allValues reports whether ns has only text, commas, values and ifs, and
// ok holds for each of their expressions.
func allValues(ns []node, ok func(*expr.Expr) bool) bool {
	for i := range ns {
		n := &ns[i]
		switch n.kind {
		case opText, opComma:
		case opValue:
			if !chainAll(n.chain, ok) {
				return false
			}
		case opIf:
			for _, b := range n.conds {
				if !chainAll(b.cond, ok) || !allValues(b.body, ok) {
					return false
				}
			}
			if !allValues(n.els, ok) {
				return false
			}
		default: // {{.}}, pairs, locals, loops and withs read the context
			return false
		}
	}
	return true
}

func chainAll(c chain, ok func(*expr.Expr) bool) bool {
	for _, p := range c {
		if !ok(p.e) {
			return false
		}
	}
	return true
}

// Calls reports whether any expression of t may call the extension
// function name (expr.Expr.Calls).
func (t *Template) Calls(name string) bool { return nodesCall(t.nodes, name) }

func nodesCall(ns []node, name string) bool {
	for i := range ns {
		n := &ns[i]
		if chainCalls(n.chain, name) || nodesCall(n.body, name) || nodesCall(n.els, name) {
			return true
		}
		for _, b := range n.conds {
			if chainCalls(b.cond, name) || nodesCall(b.body, name) {
				return true
			}
		}
	}
	return false
}

func chainCalls(c chain, name string) bool {
	for _, p := range c {
		if p.e.Calls(name) {
			return true
		}
	}
	return false
}
