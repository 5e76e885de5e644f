package oxn

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// TestTreeArenaMatchesParseTree checks that a TreeArena parses like
// ParseTree: the same documents (read API, Materialize) and the same
// errors, and that earlier trees stay intact while later ones are cut from
// the same blocks.
func TestTreeArenaMatchesParseTree(t *testing.T) {
	var a TreeArena
	type kept struct {
		tree *Tree
		want *dom.Node
	}
	var trees []kept
	corpus := treeCorpus()
	// Small texts first, then the corpus twice: blocks fill, grow and are
	// replaced while earlier trees are still referenced.
	for i := 0; i < 40; i++ {
		corpus = append(corpus, `{"a":"x","n":`+strings.Repeat("[1,", i%5)+"1"+strings.Repeat("]", i%5)+`}`)
	}
	corpus = append(corpus, treeCorpus()...)
	for _, doc := range corpus {
		want, err := Parse([]byte(doc), 0)
		if err != nil {
			t.Fatalf("Parse(%.40q): %v", doc, err)
		}
		tree, err := a.ParseTree([]byte(doc), 0)
		if err != nil {
			t.Fatalf("TreeArena.ParseTree(%.40q): %v", doc, err)
		}
		checkTreeRead(t, tree, want)
		trees = append(trees, kept{tree, want})
	}
	for _, k := range trees {
		if got, exp := dom.XMLString(k.tree.Materialize()), dom.XMLString(k.want); got != exp {
			t.Fatalf("tree changed after later parses:\n got %s\nwant %s", got, exp)
		}
	}
	for _, in := range []string{``, `{`, `[1,]`, `{"a":}`, `{"a":1}x`, "\"a\x01\"", `{"a" 1}`} {
		_, perr := ParseTree([]byte(in), 0)
		_, aerr := a.ParseTree([]byte(in), 0)
		if aerr == nil || perr == nil || aerr.Error() != perr.Error() {
			t.Errorf("TreeArena.ParseTree(%q) = %v, ParseTree: %v", in, aerr, perr)
		}
	}
	deep := strings.Repeat(`[`, 11) + strings.Repeat(`]`, 11)
	if _, err := a.ParseTree([]byte(deep), 10); !errors.Is(err, ErrTooDeep) {
		t.Errorf("TreeArena.ParseTree(11 deep, limit 10) = %v, want ErrTooDeep", err)
	}
	// A large text gets its own node slice, and stays right.
	big := string(jsonDoc(shapeTypical, 64<<10))
	want, err := ParseString(big, 0)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := a.ParseTreeString(big, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkTreeRead(t, tree, want)
}

// TestTreeArenaAllocs checks the point of the arena: a small text costs
// about one allocation (its copy), where ParseTree makes three, and the
// first ones only their copy.
func TestTreeArenaAllocs(t *testing.T) {
	data := []byte(`{"X-Request-Id":"abc","X-Service":"hello"}`)
	a := new(TreeArena)
	first := testing.AllocsPerRun(1, func() { // AllocsPerRun runs it twice
		if _, err := a.ParseTree(data, 0); err != nil {
			t.Fatal(err)
		}
	})
	if first != 1 {
		t.Fatalf("the first small parses cost %v allocations each, want 1 (the copy)", first)
	}
	got := testing.AllocsPerRun(200, func() {
		if _, err := a.ParseTree(data, 0); err != nil {
			t.Fatal(err)
		}
	})
	plain := testing.AllocsPerRun(200, func() {
		if _, err := ParseTree(data, 0); err != nil {
			t.Fatal(err)
		}
	})
	if got > 1.5 || plain < 3 {
		t.Fatalf("TreeArena.ParseTree: %v allocations per parse, ParseTree %v; want about 1 and 3", got, plain)
	}
}

// FuzzTreeArena checks that a TreeArena reused across inputs parses each
// exactly as ParseTree does.
func FuzzTreeArena(f *testing.F) {
	for _, s := range treeCorpus()[:19] {
		f.Add([]byte(s))
	}
	var a TreeArena
	f.Fuzz(func(t *testing.T, data []byte) {
		want, perr := ParseTree(data, 64)
		got, aerr := a.ParseTree(data, 64)
		if (perr == nil) != (aerr == nil) || (perr != nil && perr.Error() != aerr.Error()) {
			t.Fatalf("TreeArena.ParseTree(%q) err = %v, ParseTree err = %v", data, aerr, perr)
		}
		if perr != nil {
			return
		}
		if g, w := dom.XMLString(got.Materialize()), dom.XMLString(want.Materialize()); g != w {
			t.Fatalf("TreeArena.ParseTree(%q)\n got %s\nwant %s", data, g, w)
		}
	})
}

// TestTreeArenaNewDoc: Docs from an arena are independent, need no
// allocation once the arena has been through a Reset with the same use,
// and Reset drops what they referred to.
func TestTreeArenaNewDoc(t *testing.T) {
	var a TreeArena
	parse := func(s string) *Tree {
		tree, err := a.ParseTree([]byte(s), 0)
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	var docs []*Doc
	for i := range 7 { // two blocks
		docs = append(docs, a.NewDoc(parse(`{"i":`+string(rune('0'+i))+`}`)))
	}
	for i, d := range docs {
		if got := d.Tree().StringValue(DocIndex); got != string(rune('0'+i)) {
			t.Fatalf("doc %d holds %q", i, got)
		}
		if d.Document() == nil || !d.Materialized() {
			t.Fatalf("doc %d did not materialise", i)
		}
	}
	a.Reset()
	for i := range a.docBase {
		if d := &a.docBase[i]; d.tree != nil || d.root != nil {
			t.Fatal("Reset kept a Doc's tree or document")
		}
	}
	tree := parse(`{"x":1}`)
	if n := testing.AllocsPerRun(100, func() {
		a.Reset()
		a.NewDoc(tree)
		a.NewDoc(tree)
	}); n != 0 {
		t.Errorf("two Docs after Reset: %.0f allocations, want 0", n)
	}
	if d := (*TreeArena)(nil).NewDoc(tree); d.Tree() != tree {
		t.Error("nil arena: wrong tree")
	}
}

// TestStartBuilderScratch: a builder started from an arena that has been
// Reset writes its text to the arena's scratch and leaves it in the
// chunk: the tree is the one a plain builder makes, and building it costs
// no text allocation. A second builder started while the first is under
// way, or after one was abandoned, writes its own text, and every tree
// stays intact.
func TestStartBuilderScratch(t *testing.T) {
	build := func(b *TreeBuilder, v string) {
		o := b.Object(b.Root(), "main")
		b.String(o, "url", "http://upstream/v2/"+v)
		b.Scalar(o, "status", Number, "200")
		if b.Member(o, "url") == NoIndex {
			t.Fatal("Member does not find url while building")
		}
	}
	want := func(v string) string {
		var b TreeBuilder
		b.Reset("upstream", 4, 0)
		build(&b, v)
		return treeJSON(t, b.Tree())
	}
	var a TreeArena
	a.Reset()
	var b1, b2 TreeBuilder
	a.StartBuilder(&b1, "upstream", 4, 64)
	build(&b1, "one")
	a.StartBuilder(&b2, "upstream", 4, 64) // while b1 is under way
	build(&b2, "two")
	t2 := a.BuiltTree(&b2)
	t1 := a.BuiltTree(&b1)
	var b3 TreeBuilder
	a.StartBuilder(&b3, "upstream", 4, 64)
	build(&b3, "abandoned") // never finished
	var b4 TreeBuilder
	a.StartBuilder(&b4, "upstream", 4, 64)
	build(&b4, "four")
	t4 := a.BuiltTree(&b4)
	// Trees are gone after Reset; the strings read from them are not.
	got := map[string]string{"one": treeJSON(t, t1), "two": treeJSON(t, t2), "four": treeJSON(t, t4)}
	url := t1.StringValue(t1.FirstChild(t1.FirstChild(0)))
	a.Reset()
	var b5 TreeBuilder
	a.StartBuilder(&b5, "upstream", 4, 64)
	build(&b5, "five")
	got["five"] = treeJSON(t, a.BuiltTree(&b5))
	for v, g := range got {
		if w := want(v); g != w {
			t.Errorf("%s: %s, want %s", v, g, w)
		}
	}
	if url != "http://upstream/v2/one" {
		t.Errorf("a string read before Reset is now %q", url)
	}
	if n := testing.AllocsPerRun(100, func() {
		a.Reset()
		var b TreeBuilder
		a.StartBuilder(&b, "upstream", 4, 64)
		build(&b, "x")
		a.BuiltTree(&b)
	}); n != 0 {
		t.Errorf("a builder from a reset arena: %.0f allocations, want 0", n)
	}
}
