package oxn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// treeCorpus are the documents the differential tests compare Tree with
// Parse on: every JSON type, escapes, keys that are not XML names, empty
// containers and strings, duplicates, deep nesting and the benchmark shapes.
func treeCorpus() []string {
	docs := []string{
		`{"Object":{"String":"foo","Number":-1234.56,"Boolean":true,"Null":null,"Array":["bar",42]},"Empty Object":{}}`,
		`"s"`, `""`, ` 1e3 `, `false`, `true`, `null`, `[]`, `{}`, `[[1],{}]`, `{"a":1,"a":2}`,
		`{"1x":1,"a:b":2,"":3,"ok-._1":4,"ü":5,"value":{"json":true}}`,
		`"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"`, "\"\xff\"", "{\"k\\u0041\":\"\xffv\",\"n\\nl\":[\"\",\"x\\ty\"]}",
		`{"a":"","b":[null,"",0,{"c":[]}],"d":{"e":{"f":"deep"}}}`,
		`[{"id":1,"name":"one","tags":["a","b"]},{"id":2,"name":"two","tags":[]},{"id":3,"name":"three"}]`,
		strings.Repeat(`[`, 60) + `"x"` + strings.Repeat(`]`, 60),
		`{"k k":{"v":1},"x":[{"y y":"z"}]}`,
	}
	for _, shape := range []string{shapeTypical, shapeTiny, shapeDeep, shapeKeys} {
		docs = append(docs, string(jsonDoc(shape, 2048)))
	}
	return docs
}

// treeXPaths exercise every axis and node test on both representations.
var treeXPaths = []string{
	`/`, `//node()`, `//*`, `//@*`, `//text()`, `/descendant-or-self::node()`, `//*/ancestor::*`,
	`//*/ancestor-or-self::node()`, `//value/preceding-sibling::*`, `//value/following-sibling::node()`,
	`//*[@string]/following::node()`, `//*[@number]/preceding::node()`, `//text()/parent::*`, `//@*/..`,
	`//@name`, `//json-element`, `//json-element/@*`, `//*[not(node())]`, `//*[text()]`,
	`//value[last()]`, `//value[position() mod 2 = 0]`, `//*[@array]/value[1]/..`, `/json/*[1]/following-sibling::*`,
	`/json/items/value[2]/name`, `//*[.='1']`, `//*[@*[local-name()='object']]/*`, `//@*[.='']/parent::*/text()`,
	`count(//node())`, `count(//@*)`, `sum(//*[@number][not(contains(., 'e'))])`, `string(/json)`,
	`string(/)`, `normalize-space(/)`, `name(//*[3])`, `local-name(//*[last()])`, `string(//text()[1])`,
	`string(//@name[1])`, `boolean(//value)`, `count(//*[@object]/*)`, `//Object/Array/value[2]`,
	`//*[starts-with(name(), 'json')]`, `//text()[1]/../../*`, `(//*)[5]/preceding::*[2]`,
}

// navItems describes what an XPath result is, node by node.
func navItems(v any) string {
	it, ok := v.(*xpath.NodeIterator)
	if !ok {
		return fmt.Sprintf("%T %v", v, v)
	}
	var b strings.Builder
	for it.MoveNext() {
		n := it.Current()
		fmt.Fprintf(&b, "[%d %q %q]", n.NodeType(), n.LocalName(), n.Value())
	}
	return b.String()
}

// TestTreeMatchesParse is the differential test: for every corpus
// document, Materialize equals Parse, and every XPath gives the same result
// over a TreeNavigator as over a dom.Navigator of Parse's document.
func TestTreeMatchesParse(t *testing.T) {
	for _, doc := range treeCorpus() {
		want, err := Parse([]byte(doc), 0)
		if err != nil {
			t.Fatalf("Parse(%.40q): %v", doc, err)
		}
		tree, err := ParseTree([]byte(doc), 0)
		if err != nil {
			t.Fatalf("ParseTree(%.40q): %v", doc, err)
		}
		if got, exp := dom.XMLString(tree.Materialize()), dom.XMLString(want); got != exp {
			t.Errorf("Materialize(%.40q)\n got %s\nwant %s", doc, got, exp)
		}
		for _, src := range treeXPaths {
			e := xpath.MustCompile(src)
			got := navItems(e.Evaluate(tree.Navigator()))
			exp := navItems(e.Evaluate(dom.NewNavigator(want)))
			if got != exp {
				t.Errorf("%s over %.40q:\n tree %.300s\n  dom %.300s", src, doc, got, exp)
			}
		}
	}
}

// TestTreeErrors checks that ParseTree rejects what Parse rejects, with the
// same error.
func TestTreeErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`tru`, `nul`, `fals`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`, `[1 2]`, `1 2`, `{"a":1}x`, `NaN`, `'a'`,
		`{"a":}`, `[`, `{"a"`,
	} {
		_, perr := Parse([]byte(in), 0)
		_, terr := ParseTree([]byte(in), 0)
		if terr == nil || !errors.Is(terr, ErrSyntax) || perr == nil || terr.Error() != perr.Error() {
			t.Errorf("ParseTree(%q) = %v, Parse: %v", in, terr, perr)
		}
	}
	deep := strings.Repeat(`[`, 11) + strings.Repeat(`]`, 11)
	if _, err := ParseTree([]byte(deep), 10); !errors.Is(err, ErrTooDeep) {
		t.Errorf("ParseTree(11 deep, limit 10) = %v, want ErrTooDeep", err)
	}
	if _, err := ParseTree([]byte(deep), 11); err != nil {
		t.Errorf("ParseTree(11 deep, limit 11) = %v", err)
	}
}

// TestTreeNavigatorMoves checks the moves XPath rarely makes alone.
func TestTreeNavigatorMoves(t *testing.T) {
	tree, err := ParseTreeString(`{"a b":"x","c":[1,2]}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	nav := tree.Navigator()
	if nav.MoveToParent() || nav.MoveToNext() || nav.MoveToPrevious() || nav.MoveToFirst() || nav.MoveToNextAttribute() {
		t.Fatal("the root moved sideways, up or to an attribute")
	}
	if !nav.MoveToChild() || nav.LocalName() != "json" || nav.Index() != 0 || !nav.MoveToFirst() || nav.MoveToNext() {
		t.Fatal("json element")
	}
	if !nav.MoveToChild() || nav.LocalName() != KeyElementName || !nav.MoveToNextAttribute() ||
		nav.LocalName() != KeyAttr || nav.Value() != "a b" || !nav.MoveToNextAttribute() || nav.LocalName() != "string" ||
		nav.MoveToNextAttribute() || nav.MoveToChild() || nav.MoveToNext() || !nav.MoveToParent() {
		t.Fatal("json-element attributes")
	}
	c := nav.Copy()
	if !nav.MoveToChild() || nav.NodeType() != xpath.TextNode || nav.Value() != "x" || !nav.MoveToFirst() ||
		nav.MoveToChild() || nav.MoveToNextAttribute() || !nav.MoveToParent() || !nav.MoveTo(c) {
		t.Fatal("text child")
	}
	if !nav.MoveToNext() || nav.Value() != "12" || !nav.MoveToChild() || !nav.MoveToNext() || !nav.MoveToFirst() ||
		nav.Value() != "1" || nav.MoveToPrevious() {
		t.Fatal("array items")
	}
	if nav.MoveTo(dom.NewNavigator(nil)) {
		t.Fatal("MoveTo a foreign navigator succeeded")
	}
	if tree.Len() != 5 || tree.Size() < int64(len(`{"a b":"x","c":[1,2]}`)) {
		t.Fatalf("Len %d, Size %d", tree.Len(), tree.Size())
	}
}

// FuzzParseTree checks that ParseTree accepts exactly what Parse accepts,
// that Materialize equals Parse's document and that XPath sees the same
// nodes over both.
func FuzzParseTree(f *testing.F) {
	for _, s := range treeCorpus()[:19] {
		f.Add([]byte(s))
	}
	f.Add([]byte(`[`))
	f.Add([]byte("{\"\\u00\":1}"))
	all := xpath.MustCompile(`//node() | //@*`)
	str := xpath.MustCompile(`string(/)`)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, perr := Parse(data, 64)
		tree, terr := ParseTree(data, 64)
		if (perr == nil) != (terr == nil) || (perr != nil && perr.Error() != terr.Error()) {
			t.Fatalf("ParseTree(%q) err = %v, Parse err = %v", data, terr, perr)
		}
		if perr != nil {
			return
		}
		if got, exp := dom.XMLString(tree.Materialize()), dom.XMLString(want); got != exp {
			t.Fatalf("Materialize(%q)\n got %s\nwant %s", data, got, exp)
		}
		checkTreeRead(t, tree, want)
		for _, e := range []*xpath.Expr{all, str} {
			if got, exp := navItems(e.Evaluate(tree.Navigator())), navItems(e.Evaluate(dom.NewNavigator(want))); got != exp {
				t.Fatalf("%s over %q:\n tree %s\n  dom %s", e, data, got, exp)
			}
		}
	})
}

// TestTreeNodeSize keeps tnodeSize, which Size and TreeCostFactor rely on,
// equal to the real node size.
func TestTreeNodeSize(t *testing.T) {
	if got := unsafe.Sizeof(tnode{}); got != tnodeSize {
		t.Errorf("tnode is %d bytes, tnodeSize says %d", got, tnodeSize)
	}
}

// FuzzCountValues checks countValues' promises: an upper bound of the
// nodes a parse makes (so the node slice never grows), never below the
// exact count, and above it only by at most one node per four bytes.
func FuzzCountValues(f *testing.F) {
	for _, s := range treeCorpus() {
		f.Add(s)
	}
	f.Add(`"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z"`)
	f.Add(`{"text":"one, two, three, four","n":[1,2,3]}`)
	f.Add(`[[[[[[[[[[]]]]]]]]]]`)
	f.Fuzz(func(t *testing.T, s string) {
		c, e := countValues(s), exactValues(s)
		if c < e || c > max(e, len(s)/4+1) {
			t.Fatalf("countValues(%q) = %d, exact %d: want between exact and max(exact, %d)", s, c, e, len(s)/4+1)
		}
		tree, err := ParseTreeString(s, 64)
		if err != nil {
			return
		}
		if len(tree.nodes) > c || cap(tree.nodes) != c {
			t.Fatalf("ParseTreeString(%q): %d nodes, capacity %d, countValues %d", s, len(tree.nodes), cap(tree.nodes), c)
		}
	})
}

// TestCountValuesStringOfCommas: a string full of separators gets the
// exact count (one node), not one per comma.
func TestCountValuesStringOfCommas(t *testing.T) {
	s := `"` + strings.Repeat(",", 1000) + `"`
	if got := countValues(s); got != 1 {
		t.Errorf("countValues of a string of commas = %d, want 1", got)
	}
	typical := `{"items":[{"name":"item-0001","price":2},{"name":"item-0002","price":3}]}`
	if got, exact := countValues(typical), exactValues(typical); got != exact {
		t.Errorf("countValues(typical JSON) = %d, exact %d", got, exact)
	}
}
