package flat

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// memberIndex finds an element's child elements by name without walking
// them: $env holds every environment variable of the process, hundreds in
// a Kubernetes pod (a *_SERVICE_HOST and *_PORT pair per service), and
// $env/NAME visited them one by one, a cache miss each on a loaded server.
// A name that several children share maps to nil, for the walk to find
// them all.
type memberIndex map[string]*dom.Node

// indexMembers indexes the child elements of n.
func indexMembers(n *dom.Node) memberIndex {
	idx := memberIndex{}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != dom.ElementNode {
			continue
		}
		if _, dup := idx[ch.Name]; dup {
			idx[ch.Name] = nil
			continue
		}
		idx[ch.Name] = ch
	}
	return idx
}

// lookup returns the only child named name (nil when there is none); ok is
// false when several children have that name.
func (idx memberIndex) lookup(name string) (n *dom.Node, ok bool) {
	n, found := idx[name]
	if found && n == nil {
		return nil, false
	}
	return n, true
}

// MemberNode implements expr.MemberNodeScope for $env: $env/NAME is a map
// lookup. A flow variable named env hides $env, as in Var.
func (r *run) MemberNode(name, member string) (*dom.Node, bool) {
	if name != "env" || r.varIndex(name) >= 0 {
		return nil, false
	}
	_, idx := r.env()
	return idx.lookup(member)
}

// env returns $env and the index of its members: the project's, or what a
// test's set-env made of it.
func (r *run) env() (expr.Value, memberIndex) {
	if !r.projectEnv() {
		return r.side.test.envSet, r.side.test.envIndex
	}
	return r.p.envSet, r.p.envIndex
}

// projectEnv reports whether the run sees the project's $env, not a
// test's set-env.
func (r *run) projectEnv() bool {
	return r.side == nil || r.side.test == nil || r.side.test.envSet == nil
}
