package oxn

import (
	"encoding/json"
	"strings"
	"testing"
)

// validCases are documents whose validity Valid must judge as
// encoding/json.Valid does; want is that verdict.
var validCases = []struct {
	in   string
	want bool
}{
	{`{}`, true}, {`[]`, true}, {` { } `, true}, {"\t[\r\n]\n", true},
	{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
	{`"x"`, true}, {`""`, true}, {`0`, true}, {`-0.5e+10`, true}, {`1E3`, true}, {`true`, true}, {`null`, true},
	{`"\u00e9\n\t\"\\\/\b\f\r"`, true}, {"\"\xff\xfe\"", true}, {`"😀"`, true},
	{strings.Repeat("[", 100) + strings.Repeat("]", 100), true},
	{``, false}, {` `, false}, {`{`, false}, {`[`, false}, {`]`, false}, {`{]`, false}, {`[}`, false},
	{`{"a"}`, false}, {`{"a":}`, false}, {`{a:1}`, false}, {`{"a":1,}`, false}, {`[1,]`, false}, {`[,1]`, false},
	{`{"a":1 "b":2}`, false}, {`[1 2]`, false}, {`1 2`, false}, {`01`, false}, {`-`, false}, {`1.`, false},
	{`.5`, false}, {`1e`, false}, {`1e+`, false}, {`+1`, false}, {`tru`, false}, {`nul`, false}, {`True`, false},
	{`"a`, false}, {"\"a\x01\"", false}, {`"\x"`, false}, {`"\u12"`, false}, {`"\u12G4"`, false},
	{"\xef\xbb\xbf{}", false}, {`{} x`, false}, {`NaN`, false}, {`[1true]`, false}, {`{"a":1}}`, false},
	{strings.Repeat("[", 10001) + strings.Repeat("]", 10001), false},
	{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), true},
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got := Valid([]byte(c.in)); got != c.want {
			t.Errorf("Valid(%.40q) = %v, want %v", c.in, got, c.want)
		}
		if std := json.Valid([]byte(c.in)); std != c.want {
			t.Errorf("the case is wrong: json.Valid(%.40q) = %v", c.in, std)
		}
	}
	for _, doc := range treeCorpus() {
		if got, want := Valid([]byte(doc)), json.Valid([]byte(doc)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid %v", doc, got, want)
		}
	}
}

// TestValidAllocatesNothing: the check runs on every template output.
func TestValidAllocatesNothing(t *testing.T) {
	doc := []byte(`{"count": 3, "names": ["A", "B", "C"], "nested": [[{"x": [1, 2.5e3, -0]}]], "s": "\u00e9"}`)
	if n := testing.AllocsPerRun(100, func() { Valid(doc) }); n != 0 {
		t.Errorf("Valid allocated %.0f times", n)
	}
}

// FuzzValid checks Valid against encoding/json.Valid on any input.
func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c.in))
	}
	for _, doc := range treeCorpus() {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	doc := jsonDoc(shapeTypical, 4096)
	b.Run("oxn", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			Valid(doc)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			json.Valid(doc)
		}
	})
}
