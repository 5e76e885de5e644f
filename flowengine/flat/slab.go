package flat

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
)

// slab allocates the OXN nodes a run builds ($request, $upstream, parsed
// template output) in a few large blocks instead of one allocation per
// node and attribute.
type slab struct {
	oxn.Arena
	obj *objScratch // see objects
}

// objScratch is what a run's JSON-object actions (set-response-headers,
// log, proxy-request, error, set-env) share: the arena their template
// output is parsed into as compact trees, and the member slice
// objectMembers fills.
type objScratch struct {
	trees   oxn.TreeArena
	members []member
	// fields is the scratch of record templates' fields (renderMembers).
	fields []template.Field
	// proxy is the run's proxy-request spec, made by the first one and
	// kept (with its headers array) across recycled runs.
	proxy *proxySpec
	// log is the run's <log> fields (run.logFields), its entries array
	// kept across recycled runs.
	log orderedMap
	// kept: the scratch came back with a recycled run (run.Recycle), so
	// its arena holds blocks sized by earlier runs.
	kept bool
}

// keptArena returns the run's object arena when it was kept from a
// recycled run, nil otherwise. Variables and $upstream go there only then:
// in steady state the kept blocks fit them and they cost no allocation,
// while a fresh run gives each its own exact allocation rather than
// growing a new arena in doubling blocks it would not reuse.
func (s *slab) keptArena() *oxn.TreeArena {
	if s.obj != nil && s.obj.kept {
		return &s.obj.trees
	}
	return nil
}

// objects returns the run's objScratch, allocating it on first use: a run
// without such an action does not pay for it, and the run itself stays in
// its size class (run_size_test.go).
func (s *slab) objects() *objScratch {
	if s.obj == nil {
		s.obj = &objScratch{}
	}
	return s.obj
}

func (s *slab) node() *dom.Node { return s.Node() }

func (s *slab) attr(name string) []dom.Attr {
	a := s.Attrs(1)
	a[0].Name = name
	return a
}

func (s *slab) elem(name, typ string) *dom.Node {
	n := s.node()
	n.Type = dom.ElementNode
	n.Name = name
	n.Attrs = s.attr(typ)
	return n
}

func (s *slab) object(name string) *dom.Node { return s.elem(name, "object") }

func (s *slab) scalar(name, typ, v string) *dom.Node {
	n := s.elem(name, typ)
	if v != "" {
		t := s.node()
		t.Type = dom.TextNode
		t.Data = v
		n.AppendChild(t)
	}
	return n
}

func (s *slab) str(name, v string) *dom.Node { return s.scalar(name, "string", v) }

// member adds a string member to obj, using json-element for keys that are
// not XML names.
func (s *slab) member(obj *dom.Node, key, v string) {
	if oxn.IsXMLName(key) {
		obj.AppendChild(s.str(key, v))
		return
	}
	n := s.str(key, v)
	oxn.SetKey(n, key)
	obj.AppendChild(n)
}
