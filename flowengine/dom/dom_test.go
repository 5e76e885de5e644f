package dom

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/antchfx/xpath"
)

func mustParse(t *testing.T, s string) *Node {
	t.Helper()
	doc, err := ParseXML([]byte(s), 0)
	if err != nil {
		t.Fatalf("ParseXML(%s): %v", s, err)
	}
	return doc
}

func TestParseXML(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`<a/>`, `<a/>`},
		{`<?xml version="1.0"?><!-- c --><a x="1" y='2'>t<b/>u<![CDATA[<v>]]></a>`, `<a x="1" y="2">t<b/>u&lt;v&gt;</a>`},
		{`<p:a xmlns:p="urn:p" xmlns="urn:d" p:x="1"><p:b/><c/></p:a>`, `<a x="1"><b/><c/></a>`},
		{`<a>&lt;&amp;&#65;&quot;</a>`, `<a>&lt;&amp;A"</a>`},
		{"<a v=\"x&#10;y\">\r\n</a>", `<a v="x&#xA;y">` + "\n</a>"},
		{`  <a/>  `, `<a/>`},
		{`<a><?pi x?><b/></a>`, `<a><b/></a>`},
	}
	for _, tt := range tests {
		doc := mustParse(t, tt.in)
		if got := XMLString(doc); got != tt.want {
			t.Errorf("ParseXML(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseXMLErrors(t *testing.T) {
	for _, in := range []string{``, `text`, `<a>`, `<a></b>`, `<a/><b/>`, `<a/>x`, `<a x=1/>`, `<a>&nope;</a>`, `</a>`} {
		if _, err := ParseXML([]byte(in), 0); err == nil {
			t.Errorf("ParseXML(%q) succeeded", in)
		}
	}
	deep := strings.Repeat("<a>", 11) + strings.Repeat("</a>", 11)
	if _, err := ParseXML([]byte(deep), 10); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth: %v, want ErrTooDeep", err)
	}
	if _, err := ParseXML([]byte(deep), 11); err != nil {
		t.Errorf("depth 11: %v", err)
	}
}

func TestWriteXMLEscapes(t *testing.T) {
	e := NewElement("a")
	e.SetAttr("q", "\"<&>\t\r")
	e.AppendChild(NewText("x<&>\"\r\x01\xff"))
	var b bytes.Buffer
	WriteXML(&b, e)
	want := `<a q="&quot;&lt;&amp;&gt;&#x9;&#xD;">x&lt;&amp;&gt;"&#xD;` + "\uFFFD\uFFFD</a>"
	if b.String() != want {
		t.Errorf("got %s, want %s", b.String(), want)
	}
	WriteXML(&b, nil) // no panic
}

func TestCloneDetach(t *testing.T) {
	doc := mustParse(t, `<r><a x="1"><b>t</b></a><c/></r>`)
	a := doc.FirstChild.FirstChild
	c := a.Clone()
	if c.Parent != nil || c.NextSibling != nil || XMLString(c) != `<a x="1"><b>t</b></a>` {
		t.Fatalf("Clone = %s", XMLString(c))
	}
	c.Attrs[0].Value = "2"
	if v, _ := a.Attr("x"); v != "1" {
		t.Fatal("Clone shares attributes")
	}
	a.Detach()
	if XMLString(doc) != `<r><c/></r>` || a.Parent != nil {
		t.Fatalf("Detach: %s", XMLString(doc))
	}
	doc.FirstChild.FirstChild.Detach()
	if XMLString(doc) != `<r/>` {
		t.Fatalf("Detach last: %s", XMLString(doc))
	}
	if (*Node)(nil).Clone() != nil {
		t.Fatal("nil Clone")
	}
	a.SetAttr("y", "2")
	a.RemoveAttr("x")
	if a.HasAttr("x") || !a.HasAttr("y") {
		t.Fatal("RemoveAttr")
	}
	if p := a.FirstChild.FirstChild.Path(); p != "/a/b/text()" {
		t.Fatalf("Path = %s", p)
	}
}

// sel evaluates an XPath over nav and renders the selected nodes.
func sel(t *testing.T, nav *Navigator, expr string) string {
	t.Helper()
	x, err := xpath.Compile(expr)
	if err != nil {
		t.Fatalf("compile %s: %v", expr, err)
	}
	switch v := x.Evaluate(nav.Copy()).(type) {
	case *xpath.NodeIterator:
		var parts []string
		for v.MoveNext() {
			n := v.Current().(*Navigator)
			switch {
			case n.IsRoot():
				parts = append(parts, "/")
			case n.MountIndex() >= 0:
				parts = append(parts, "mount:"+n.LocalName())
			case n.AttrIndex() >= 0:
				parts = append(parts, "@"+n.LocalName()+"="+n.Value())
			case n.Node().Type == TextNode:
				parts = append(parts, "#"+n.Value())
			default:
				parts = append(parts, n.LocalName()+"="+n.Value())
			}
		}
		return strings.Join(parts, " ")
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		return "?"
	}
}

func TestNavigatorDocument(t *testing.T) {
	doc := mustParse(t, `<r a="1" b="2"><x>1</x><y>2</y><x>3</x></r>`)
	nav := NewNavigator(doc)
	tests := []struct{ expr, want string }{
		{"/r/x", "x=1 x=3"},
		{"/r/x[2]", "x=3"},
		{"/r/@*", "@a=1 @b=2"},
		{"/r/*[last()]", "x=3"},
		{"//y/preceding-sibling::*", "x=1"},
		{"//y/following-sibling::x", "x=3"},
		{"/r/x[1]/..", "r=123"},
		{"/r/x/text()", "#1 #3"},
		{"/", "/"},
		{"/..", ""},
		{"//x/ancestor::*", "r=123"},
		{"/r/x | /r/y", "x=1 x=3 y=2"}, // the engine keeps operand order
		{"name(/*)", "r"},
		{"string(/r/@b)", "2"},
	}
	for _, tt := range tests {
		if got := sel(t, nav, tt.expr); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
	// Starting at an inner node: relative paths, absolute paths to the
	// document.
	y := doc.FirstChild.FirstChild.NextSibling
	nav = NewNavigator(y)
	if got := sel(t, nav, "."); got != "y=2" {
		t.Errorf(". = %q", got)
	}
	if got := sel(t, nav, "../x"); got != "x=1 x=3" {
		t.Errorf("../x = %q", got)
	}
	if got := sel(t, nav, "/r/@a"); got != "@a=1" {
		t.Errorf("/r/@a = %q", got)
	}
	if nav.Node() != y || nav.AttrIndex() != -1 {
		t.Error("Node/AttrIndex")
	}
}

func TestNavigatorDetachedElement(t *testing.T) {
	e := NewElement("e")
	e.AppendChild(NewElement("c"))
	nav := NewNavigator(e)
	if got := sel(t, nav, "/e/c"); got != "c=" {
		t.Errorf("/e/c = %q", got)
	}
	if got := sel(t, nav, ".."); got != "/" {
		t.Errorf(".. = %q", got)
	}
	nav.MoveToRoot()
	if nav.Node() != nil || !nav.IsRoot() {
		t.Error("synthetic root has a node")
	}
	if got := sel(t, NewNavigator(nil), "/*"); got != "" {
		t.Errorf("empty: %q", got)
	}
}

func TestNavigatorMounts(t *testing.T) {
	ctx := mustParse(t, `<ctx><k>v</k></ctx>`)
	val := mustParse(t, `<json><a>1</a><b>2</b></json>`)
	el := val.FirstChild
	t1, t2 := NewText("x"), NewText("y")
	mounts := []Mount{
		{Name: "_m.doc", Nodes: []*Node{val}},
		{Name: "_m.el", Nodes: []*Node{el}},
		{Name: "_m.set", Nodes: []*Node{el.FirstChild, el.LastChild}},
		{Name: "_m.txt", Nodes: []*Node{t1, t2}},
		{Name: "_m.none"},
	}
	nav := NewMountNavigator(ctx.FirstChild.FirstChild, mounts)
	tests := []struct{ expr, want string }{
		{"/following-sibling::_m.doc/node()/json/a", "a=1"},
		{"/following-sibling::_m.el/node()/b", "b=2"},
		{"/following-sibling::_m.el/node()/..", "mount:_m.el"},
		{"/following-sibling::_m.set/node()[2]", "b=2"},
		{"/following-sibling::_m.set/node()[last()]", "b=2"},
		{"count(/following-sibling::_m.set/node())", "2"},
		{"/following-sibling::_m.txt/node()", "#x #y"},
		{"/following-sibling::_m.none/node()", ""},
		{"/ctx/k", "k=v"},
		{".", "k=v"},
		{"../../following-sibling::_m.el/node()/a", ""}, // a path to a mount starts at /
		{"/following-sibling::*", "mount:_m.doc mount:_m.el mount:_m.set mount:_m.txt mount:_m.none"},
		{"/following-sibling::_m.set/node()/following-sibling::*", "b=2"},
		{"/following-sibling::_m.el/node() | /following-sibling::_m.doc/node()/json", "json=12 json=12"},
		// The mounts follow the root as its siblings, not its children:
		// no step over the context tree reaches them.
		{"/*", "ctx=v"},
		{"/node()", "ctx=v"},
		{"count(//*)", "2"},
		{"count(//a)", "0"},
		{"/ctx/preceding-sibling::node()", ""},
		{"/ctx/following-sibling::node()", ""},
		{"/ctx/k/following::node()", ""},
		{"count(/ctx/k/text()/following::node())", "0"},
	}
	for _, tt := range tests {
		if got := sel(t, nav, tt.expr); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
	// Navigation primitives at the mount level.
	n := NewMountNavigator(nil, mounts)
	if n.MoveToChild() {
		t.Fatal("the root of an empty tree has a child")
	}
	if !n.MoveToNext() || n.MountIndex() != 0 || n.Node() != nil {
		t.Fatal("first mount")
	}
	if !n.MoveToNext() || n.MountIndex() != 1 || n.MoveToNextAttribute() {
		t.Fatal("second mount")
	}
	if !n.MoveToChild() || n.Node() != el || n.MoveToNext() || n.MoveToPrevious() {
		t.Fatal("mounted node has no siblings in a one-node mount")
	}
	if !n.MoveToNextAttribute() && len(el.Attrs) > 0 {
		t.Fatal("attributes")
	}
	if !n.MoveToParent() || n.MountIndex() != 1 || !n.MoveToPrevious() || n.MountIndex() != 0 || n.MoveToPrevious() {
		t.Fatal("mount siblings")
	}
	if !n.MoveToFirst() || n.MountIndex() != 0 || !n.MoveToParent() || !n.IsRoot() || n.MoveToParent() {
		t.Fatal("root")
	}
	last := NewMountNavigator(nil, mounts)
	for last.MoveToNext() {
	}
	if last.MountIndex() != len(mounts)-1 {
		t.Fatal("the last mount has a following sibling")
	}
	climbed := NewMountNavigator(ctx.FirstChild, mounts)
	if !climbed.MoveToParent() || !climbed.IsRoot() || climbed.MoveToNext() {
		t.Fatal("the root reached from the tree has the mounts as siblings")
	}
	if climbed.MoveToRoot(); !climbed.MoveToNext() || climbed.MountIndex() != 0 {
		t.Fatal("the root reached by MoveToRoot has no mounts after it")
	}
	top := NewMountNavigator(ctx.FirstChild, mounts)
	if top.MoveToPrevious() || top.MoveToNext() || !top.MoveToFirst() || top.Node() != ctx.FirstChild {
		t.Fatal("a top-level node has the mounts as siblings")
	}
	var other xpath.NodeNavigator = NewNavigator(nil)
	if n.MoveTo(other) {
		t.Fatal("MoveTo across trees")
	}
}

func TestNavigatorReset(t *testing.T) {
	doc := mustParse(t, `<a><b/></a>`)
	var nav Navigator
	nav.Reset(doc.FirstChild.FirstChild, nil)
	if nav.Node().Name != "b" {
		t.Fatal("Reset")
	}
	nav.Reset(doc, nil)
	if !nav.IsRoot() || nav.Node() != doc {
		t.Fatal("Reset to document")
	}
	if nav.NodeType() != xpath.RootNode || nav.LocalName() != "" || nav.Prefix() != "" {
		t.Fatal("root properties")
	}
}
