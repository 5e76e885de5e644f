package expr

import (
	"math"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// fastPath is a location path simple enough to evaluate directly on the
// dom, without the XPath engine: $var or the context node, optionally one
// positional predicate on the variable, then child steps with a name or *
// and at most one integer predicate each, and optionally a final attribute
// step. These are the bulk of FLAT expressions ($request/headers/x,
// $body/json/items/value[3]/name, items/value[1]/html_url). The results are
// exactly those of the engine.
type fastPath struct {
	varName string // "" = relative to the context node
	varPos  int    // $var[n]: 1-based; 0 = all nodes
	steps   []fastStep
	attr    string // final attribute step: name or "*"; "" = none
	none    bool   // a predicate can never match (e.g. [1.5] or [0])
}

type fastStep struct {
	name string // element name or "*"
	pos  int    // 1-based position among matching children; 0 = all
}

// fastCmp is fastPath = literal or fastPath != literal.
type fastCmp struct {
	path *fastPath
	ne   bool
	str  string
	num  float64
	isN  bool
}

// posPred returns the position a predicate list selects: 0 for none, -1
// when it is not a single number literal, -2 when no node can match.
func posPred(preds []*ast) int {
	switch len(preds) {
	case 0:
		return 0
	case 1:
	default:
		return -1
	}
	p := unwrapGroup(preds[0])
	if p.kind != nNumber {
		return -1
	}
	if p.num != math.Trunc(p.num) || p.num < 1 || p.num > 1<<30 {
		return -2
	}
	return int(p.num)
}

// compileFastPath returns a's fast form, or nil.
func compileFastPath(a *ast) *fastPath {
	a = unwrapGroup(a)
	fp := &fastPath{}
	switch {
	case a.kind == nVar:
		fp.varName = a.name
		return fp
	case a.kind == nFilter && a.kids[0].kind == nVar:
		fp.varName = a.kids[0].name
		switch p := posPred(a.preds); p {
		case -1:
			return nil
		case -2:
			fp.none = true
		default:
			fp.varPos = p
		}
		return fp
	case a.kind != nPath || a.abs || len(a.steps) == 0:
		return nil
	}
	if a.start != nil {
		s := compileFastPath(a.start)
		if s == nil || s.varName == "" || len(s.steps) > 0 {
			return nil
		}
		fp.varName, fp.varPos, fp.none = s.varName, s.varPos, s.none
	}
	for i, s := range a.steps {
		if s.sep == "//" || s.abbrev != "" || s.typ {
			return nil
		}
		if s.axis == "attribute" {
			if i != len(a.steps)-1 || len(s.preds) > 0 {
				return nil
			}
			fp.attr = s.test
			break
		}
		if s.axis != "" && s.axis != "child" {
			return nil
		}
		st := fastStep{name: s.test}
		switch p := posPred(s.preds); p {
		case -1:
			return nil
		case -2:
			fp.none = true
		default:
			st.pos = p
		}
		fp.steps = append(fp.steps, st)
	}
	return fp
}

// compileFastCmp returns the fast form of path = literal (either order),
// or nil.
func compileFastCmp(a *ast) *fastCmp {
	a = unwrapGroup(a)
	if a.kind != nBinary || (a.op != "=" && a.op != "!=") {
		return nil
	}
	l, r := unwrapGroup(a.kids[0]), unwrapGroup(a.kids[1])
	if l.kind == nLiteral || l.kind == nNumber {
		l, r = r, l
	}
	if r.kind != nLiteral && r.kind != nNumber {
		return nil
	}
	if l.kind == nVar {
		return nil // the variable may hold a scalar: let the engine compare
	}
	fp := compileFastPath(l)
	if fp == nil {
		return nil
	}
	return &fastCmp{path: fp, ne: a.op == "!=", str: r.str, num: r.num, isN: r.kind == nNumber}
}

// each calls f for every selected node (attr >= 0: attribute attr of n)
// until f returns false.
func (fp *fastPath) each(c *Context, f func(n *dom.Node, attr int) bool) {
	if fp.none {
		return
	}
	if fp.varName == "" {
		if c.Node != nil {
			fp.walk(c.Node, 0, f)
		}
		return
	}
	v := lookupVar(c, fp.varName)
	ns, ok := v.(NodeSet)
	if !ok {
		// A scalar mounts as one text node: it has no children but is
		// itself selected by $var[1].
		if len(fp.steps) == 0 && fp.attr == "" && fp.varPos <= 1 {
			if m := mountNodes(v); len(m) > 0 {
				f(m[0], -1)
			}
		}
		return
	}
	for i, n := range ns {
		if n == nil {
			continue
		}
		if fp.varPos > 0 && i+1 != fp.varPos {
			continue
		}
		if !fp.walk(n, 0, f) {
			return
		}
	}
}

func (fp *fastPath) walk(n *dom.Node, i int, f func(*dom.Node, int) bool) bool {
	if i == len(fp.steps) {
		if fp.attr == "" {
			return f(n, -1)
		}
		if n.Type != dom.ElementNode {
			return true
		}
		for j := range n.Attrs {
			if fp.attr == "*" || n.Attrs[j].Name == fp.attr {
				if !f(n, j) {
					return false
				}
			}
		}
		return true
	}
	st := fp.steps[i]
	count := 0
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != dom.ElementNode || (st.name != "*" && ch.Name != st.name) {
			continue
		}
		count++
		if st.pos > 0 && count != st.pos {
			continue
		}
		if !fp.walk(ch, i+1, f) {
			return false
		}
		if st.pos > 0 {
			break
		}
	}
	return true
}

// eval returns the selected node-set.
func (fp *fastPath) eval(c *Context) NodeSet {
	var out NodeSet
	fp.each(c, func(n *dom.Node, attr int) bool {
		if attr >= 0 {
			a := n.Attrs[attr]
			n = &dom.Node{Type: dom.TextNode, Name: a.Name, Data: a.Value}
		}
		out = append(out, n)
		return true
	})
	return out
}

// eval compares per XPath 1.0: true when some selected node's
// string-value (number-value for a number literal) compares as asked.
func (fc *fastCmp) eval(c *Context) bool {
	found := false
	fc.path.each(c, func(n *dom.Node, attr int) bool {
		var s string
		if attr >= 0 {
			s = n.Attrs[attr].Value
		} else {
			s = n.StringValue()
		}
		var eq bool
		if fc.isN {
			eq = ParseNumber(s) == fc.num
		} else {
			eq = s == fc.str
		}
		if eq != fc.ne {
			found = true
			return false
		}
		return true
	})
	return found
}
