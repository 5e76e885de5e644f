package flat

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// domMembers is the dom-based objectMembers that the tree-based one
// replaced: oxn.Parse, then the element children of the object.
func domMembers(data []byte) ([]*dom.Node, error) {
	doc, err := oxn.Parse(data, 512)
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	root := doc.FirstElement()
	if oxn.TypeOf(root) != oxn.Object {
		return nil, errors.New("not a JSON object")
	}
	var out []*dom.Node
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == dom.ElementNode {
			out = append(out, c)
		}
	}
	return out, nil
}

// describeDOM renders what the actions read from a member node: key,
// type, scalarString, string-value, JSON, and the same for each child.
func describeDOM(b *strings.Builder, n *dom.Node, depth int) {
	v, ok := scalarString(n)
	var js bytes.Buffer
	err := oxn.Write(&js, n)
	fmt.Fprintf(b, "%s%q type=%v scalar=%q/%v sv=%q json=%s err=%v\n",
		strings.Repeat("  ", depth), oxn.Key(n), oxn.TypeOf(n), v, ok, n.StringValue(), js.String(), err)
	for _, c := range items(n) {
		describeDOM(b, c, depth+1)
	}
}

// describeMember is describeDOM for a tree member.
func describeMember(b *strings.Builder, m member, depth int) {
	v, ok := m.scalar()
	var js bytes.Buffer
	err := m.writeJSON(&js)
	fmt.Fprintf(b, "%s%q type=%v scalar=%q/%v sv=%q json=%s err=%v\n",
		strings.Repeat("  ", depth), m.key, m.typ(), v, ok, m.stringValue(), js.String(), err)
	for _, c := range m.children(nil) {
		describeMember(b, c, depth+1)
	}
}

func TestObjectMembersMatchesDOM(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keys []string // the member keys expected; nil with wantErr
		err  string   // error text expected, "" for none
	}{
		{name: "strings", in: `{"a":"x","b":"","c":"é \"q\" \u00e9"}`, keys: []string{"a", "b", "c"}},
		{name: "numbers as written", in: `{"n":1,"f":-1.50,"e":1E+3,"z":0}`, keys: []string{"n", "f", "e", "z"}},
		{name: "booleans", in: `{"t":true,"f":false}`, keys: []string{"t", "f"}},
		{name: "null", in: `{"gone":null}`, keys: []string{"gone"}},
		{name: "json-element keys", in: `{"X-Request-Id":"1","a b":"2","":"3","1x":4,"json-element":5}`, keys: []string{"X-Request-Id", "a b", "", "1x", "json-element"}},
		{name: "escaped key", in: `{"k\u0065y":"v","a\/b":1}`, keys: []string{"key", "a/b"}},
		{name: "array of scalars", in: `{"Set-Cookie":["a=1","b=2",3,true,null,{"x":1},[]]}`, keys: []string{"Set-Cookie"}},
		{name: "nested object", in: `{"o":{"p":{"q":"deep","r":[1,{"s":null}]}},"after":"x"}`, keys: []string{"o", "after"}},
		{name: "empty containers", in: `{"o":{},"a":[]}`, keys: []string{"o", "a"}},
		{name: "empty object", in: ` { } `, keys: []string{}},
		{name: "duplicate keys kept in order", in: `{"a":1,"a":2}`, keys: []string{"a", "a"}},
		{name: "not an object: array", in: `[1,2]`, err: "not a JSON object"},
		{name: "not an object: string", in: `"x"`, err: "not a JSON object"},
		{name: "not an object: null", in: `null`, err: "not a JSON object"},
		{name: "invalid JSON", in: `{"a":}`, err: "not JSON"},
		{name: "trailing data", in: `{"a":1} x`, err: "not JSON"},
		{name: "empty", in: ``, err: "not JSON"},
		{name: "unterminated", in: `{"a":"x`, err: "not JSON"},
		{name: "too deep", in: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, err: "not JSON"},
	}
	var shared oxn.TreeArena // used by every case, as by a run's actions
	for _, tt := range tests {
		for _, arena := range []*oxn.TreeArena{nil, &shared} {
			t.Run(fmt.Sprintf("%s/arena=%v", tt.name, arena != nil), func(t *testing.T) {
				testObjectMembersCase(t, tt.in, tt.keys, tt.err, arena)
			})
		}
	}
}

// testObjectMembersCase is one case of TestObjectMembersMatchesDOM.
func testObjectMembersCase(t *testing.T, in string, wantKeys []string, wantErr string, arena *oxn.TreeArena) {
	t.Helper()
	old, oldErr := domMembers([]byte(in))
	got, err := objectMembers([]byte(in), arena, nil)
	if wantErr != "" {
		if err == nil || oldErr == nil {
			t.Fatalf("errors: tree %v, dom %v; want both %q", err, oldErr, wantErr)
		}
		if err.Error() != oldErr.Error() || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %q, dom error %q, want %q", err, oldErr, wantErr)
		}
		return
	}
	if err != nil || oldErr != nil {
		t.Fatalf("errors: tree %v, dom %v", err, oldErr)
	}
	keys := make([]string, len(got))
	for i, m := range got {
		keys[i] = m.key
	}
	if strings.Join(keys, "|") != strings.Join(wantKeys, "|") || len(keys) != len(wantKeys) {
		t.Fatalf("keys %q, want %q", keys, wantKeys)
	}
	want, have := describeBoth(old, got)
	if have != want {
		t.Errorf("tree members:\n%s\ndom members:\n%s", have, want)
	}
	// The lazily built nodes read the same as the parsed ones.
	var lazy strings.Builder
	for _, m := range got {
		describeDOM(&lazy, m.dom(), 0)
	}
	if lazy.String() != want {
		t.Errorf("materialised members:\n%s\ndom members:\n%s", lazy.String(), want)
	}
}

// describeBoth describes the members the dom parse found (want) and the
// tree members (have) in the same words.
func describeBoth(old []*dom.Node, got []member) (want, have string) {
	var w, h strings.Builder
	for _, n := range old {
		describeDOM(&w, n, 0)
	}
	for _, m := range got {
		describeMember(&h, m, 0)
	}
	return w.String(), h.String()
}

// TestObjectMembersBuildsNoDOM checks that reading keys, types, scalars,
// arrays and JSON allocates nothing: no *dom.Node is built.
func TestObjectMembersBuildsNoDOM(t *testing.T) {
	ms, err := objectMembers([]byte(`{"a":"x","n":2,"h":["1","2"],"o":{"p":true}}`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kids := make([]member, 0, 4)
	var b bytes.Buffer
	b.Grow(256)
	allocs := testing.AllocsPerRun(100, func() {
		b.Reset()
		for _, m := range ms {
			if _, ok := m.scalar(); ok {
				m.stringValue() // of a scalar: its text
			}
			m.typ()
			for _, c := range m.children(kids[:0]) {
				c.scalar()
			}
			if err := m.writeJSON(&b); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("reading members allocates %v times per run, want 0", allocs)
	}
	n := ms[3].dom()
	if oxn.Key(n) != "o" || oxn.TypeOf(n) != oxn.Object || n.Child("p") == nil {
		t.Fatalf("dom() = %q %v, want the object o", oxn.Key(n), oxn.TypeOf(n))
	}
	if h := ms[2].dom(); oxn.Key(h) != "h" || len(items(h)) != 2 {
		t.Fatalf("dom() = %q with %d items, want the array h", oxn.Key(h), len(items(h)))
	}
}

func TestObjectMembersKeepsNoScratch(t *testing.T) {
	buf := []byte(`{"a":"x","b":["y"]}`)
	ms, err := objectMembers(buf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = '#'
	}
	v, _ := ms[0].scalar()
	w, _ := ms[1].children(nil)[0].scalar()
	if ms[0].key != "a" || v != "x" || w != "y" {
		t.Fatalf("members changed with the input buffer: %q=%q, %q", ms[0].key, v, w)
	}
}

func TestMemberChild(t *testing.T) {
	ms, err := objectMembers([]byte(`{"q":[{"name":"a","value":1},{"value":2},"s",{"x y":1,"name":{"n":"nested"}}]}`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := domMembers([]byte(`{"q":[{"name":"a","value":1},{"value":2},"s",{"x y":1,"name":{"n":"nested"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	its, oldIts := ms[0].children(nil), items(old[0])
	for i, it := range its {
		for _, name := range []string{"name", "value", "json-element", "x y"} {
			c, ok := it.child(name)
			oc := oldIts[i].Child(name)
			if ok != (oc != nil) {
				t.Fatalf("item %d child %q: found %v, dom found %v", i, name, ok, oc != nil)
			}
			if ok && c.stringValue() != oc.StringValue() {
				t.Fatalf("item %d child %q = %q, dom %q", i, name, c.stringValue(), oc.StringValue())
			}
		}
	}
}

func TestOrderedMapMerge(t *testing.T) {
	var m orderedMap
	steps := []string{
		`{"service":"hello","n":1,"o":{"a":1,"b":[1,"x"]},"gone":true}`,
		`{"n":2.50,"o":{"b":null,"c":{"d":"e"}},"gone":null,"t":false}`,
		`{"o":"scalar now","p":{"q":null}}`,
	}
	wants := []string{
		`{"service":"hello","n":1,"o":{"a":1,"b":[1,"x"]},"gone":true}`,
		`{"service":"hello","n":2.50,"o":{"a":1,"c":{"d":"e"}},"t":false}`,
		`{"service":"hello","n":2.50,"o":"scalar now","t":false,"p":{}}`,
	}
	for i, s := range steps {
		ms, err := objectMembers([]byte(s), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.merge(ms)
		var b bytes.Buffer
		m.write(&b)
		if b.String() != wants[i] {
			t.Errorf("after %s:\n got %s\nwant %s", s, b.String(), wants[i])
		}
	}
}

// FuzzObjectMembers checks that the tree-based members read exactly as the
// dom-based ones did, and that both parsers agree on errors.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{"a":"x","n":1.0,"b":[true,null,{"c":"d"}],"a b":{}}`, `[]`, `{"a":}`, `{"\u0041":"\n"}`} {
		f.Add([]byte(s))
	}
	var arena oxn.TreeArena
	f.Fuzz(func(t *testing.T, data []byte) {
		old, oldErr := domMembers(data)
		got, err := objectMembers(data, &arena, nil)
		if (err == nil) != (oldErr == nil) || err != nil && err.Error() != oldErr.Error() {
			t.Fatalf("errors: tree %v, dom %v", err, oldErr)
		}
		if want, have := describeBoth(old, got); have != want {
			t.Fatalf("tree members:\n%s\ndom members:\n%s", have, want)
		}
	})
}

// BenchmarkObjectMembers compares reading the example's template outputs
// (the init flow's set-response-headers object, the proxy-request spec)
// the old way, as *dom.Node from a warm oxn.Arena, with the tree reading
// from a warm TreeArena, and from a fresh objScratch as a run's first
// object action pays for it.
func BenchmarkObjectMembers(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"headers", []byte(`{"X-Request-Id":"abc-123-def","X-Service":"hello"}`)},
		{"proxy-spec", []byte(`{"origin":"http://upstream","stripEndpoint":true,"addPrefix":"/v2","headers":{"X-Flowproc":"1","X-Request-Id":"abc-123-def"}}`)},
	}
	for _, in := range inputs {
		b.Run(in.name+"/dom-arena", func(b *testing.B) {
			b.ReportAllocs()
			var a oxn.Arena
			out := make([]*dom.Node, 0, 8)
			for b.Loop() {
				doc, err := a.Parse(in.data, 512)
				if err != nil {
					b.Fatal(err)
				}
				out = out[:0]
				for c := doc.FirstElement().FirstChild; c != nil; c = c.NextSibling {
					if c.Type == dom.ElementNode {
						out = append(out, c)
						scalarString(c)
					}
				}
			}
		})
		b.Run(in.name+"/tree-arena", func(b *testing.B) {
			b.ReportAllocs()
			a := new(oxn.TreeArena)
			out := make([]member, 0, 8)
			for b.Loop() {
				ms, err := objectMembers(in.data, a, out)
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range ms {
					m.scalar()
				}
			}
		})
		b.Run(in.name+"/tree-fresh-scratch", func(b *testing.B) {
			b.ReportAllocs()
			out := make([]member, 0, 8)
			for b.Loop() {
				o := new(objScratch)
				ms, err := objectMembers(in.data, &o.trees, out)
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range ms {
					m.scalar()
				}
			}
		})
	}
}
