package template

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// dump renders a parsed template compactly for structural assertions.
func dump(ns []node) string {
	var b strings.Builder
	for i := range ns {
		n := &ns[i]
		if i > 0 {
			b.WriteByte(' ')
		}
		switch n.kind {
		case opText:
			b.WriteString("T" + strings.ReplaceAll(n.text, " ", "_"))
		case opValue:
			b.WriteString("V(" + dumpChain(n.chain) + ")")
		case opDot:
			b.WriteString("DOT")
		case opComma:
			b.WriteString("COMMA")
		case opPairs:
			b.WriteString("P(" + dumpChain(n.chain) + ")")
		case opSet:
			b.WriteString("SET(" + dumpChain(n.chain) + ")")
		case opLoop:
			b.WriteString("LOOP(" + dumpChain(n.chain) + "){" + dump(n.body) + "}")
		case opWith:
			b.WriteString("WITH(" + dumpChain(n.chain) + "){" + dump(n.body) + "}")
			if n.els != nil {
				b.WriteString("ELSE{" + dump(n.els) + "}")
			}
		case opIf:
			for j, c := range n.conds {
				if j == 0 {
					b.WriteString("IF")
				} else {
					b.WriteString("ELIF")
				}
				b.WriteString("(" + dumpChain(c.cond) + "){" + dump(c.body) + "}")
			}
			if n.els != nil {
				b.WriteString("ELSE{" + dump(n.els) + "}")
			}
		}
	}
	return b.String()
}

func dumpChain(c chain) string {
	s := make([]string, len(c))
	for i, p := range c {
		s[i] = p.src
	}
	return strings.Join(s, "|")
}

func TestParseStructure(t *testing.T) {
	cases := []struct{ src, want string }{
		{`{"a": {{ a }}}`, `T{"a":_ V(a) T}`},
		{`{{ a ?? b/c ?? "x" }}`, `V(a|b/c|"x")`},
		{`{{ concat("??", 'a??b') ?? "x" }}`, `V(concat("??", 'a??b')|"x")`},
		{`{{.}}{{,}}{{// comment with {{ and stuff }}`, `DOT COMMA`},
		{`{{: a | b }}{{:c}}`, `P(a | b) P(c)`},
		{`{{$x := a}}{{$y:=b}}{{$x := c}}`, `SET(a) SET(b) SET(c)`},
		{`{{if a}}1{{elseif b}}2{{elseif c ?? d}}3{{else}}4{{end}}`, `IF(a){T1}ELIF(b){T2}ELIF(c|d){T3}ELSE{T4}`},
		{`{{if a}}{{end}}`, `IF(a){}`},
		{`{{loop items/value}}{{ . }}{{end}}`, `LOOP(items/value){V(.)}`},
		{`{{with x}}a{{else}}b{{end}}`, `WITH(x){Ta}ELSE{Tb}`},
		{"{{if\ta}}{{loop b}}{{with c}}{{end }}{{end}}{{end}}", `IF(a){LOOP(b){WITH(c){}}}`},
		{`{{{ a }}}`, `T{ V(a) T}`},
		{`[{{{ a }}}]`, `T[{ V(a) T}]`},
		{`{{ concat("}}", a) }}`, `V(concat("}}", a))`},
		{`plain text`, `Tplain_text`},
		{``, ``},
		{"{{ a\n}}", `V(a)`},
	}
	for _, c := range cases {
		tp, err := Parse(c.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.src, err)
			continue
		}
		if got := dump(tp.nodes); got != c.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", c.src, got, c.want)
		}
		if tp.Source() != c.src {
			t.Errorf("Source() = %q", tp.Source())
		}
	}
}

func TestParseLocalsSlots(t *testing.T) {
	tp, err := Parse(`{{$a := 1}}{{$b := 2}}{{$a := 3}}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.locals) != 2 || tp.nodes[2].slot != 0 || tp.nodes[1].slot != 1 {
		t.Fatalf("locals %v slots %d %d", tp.locals, tp.nodes[1].slot, tp.nodes[2].slot)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string
		code      diag.Code
	}{
		{`{{bad}}`, 1, 1, `Invalid template command: bad`, diag.TemplateSyntax},
		{"{\n  \"a\": {{foo}}\n}", 2, 8, `Invalid template command: foo (a placeholder needs a space after "{{")`, diag.TemplateSyntax},
		{"x\n{{if a}}\n1", 2, 1, `Unclosed {{if}}: missing {{end}}`, diag.TemplateSyntax},
		{"{{loop a}}", 1, 1, `Unclosed {{loop}}`, diag.TemplateSyntax},
		{"{{with a}}{{else}}", 1, 1, `Unclosed {{with}}`, diag.TemplateSyntax},
		{"a\n\n  {{end}}", 3, 3, `{{end}} without a matching`, diag.TemplateSyntax},
		{"{{else}}", 1, 1, `{{else}} without a matching`, diag.TemplateSyntax},
		{"{{elseif a}}", 1, 1, `{{elseif}} without a matching`, diag.TemplateSyntax},
		{"{{if a}}{{else}}{{elseif b}}{{end}}", 1, 17, `{{elseif}} after {{else}}`, diag.TemplateSyntax},
		{"{{if a}}{{else}}{{else}}{{end}}", 1, 17, `Duplicate {{else}}`, diag.TemplateSyntax},
		{"{{loop a}}{{else}}{{end}}", 1, 11, `{{else}} is not allowed in {{loop}}`, diag.TemplateSyntax},
		{"{{with a}}{{elseif b}}{{end}}", 1, 11, `{{elseif}} is only allowed in {{if}}`, diag.TemplateSyntax},
		{"{{ a }", 1, 1, `Unclosed "{{"`, diag.TemplateSyntax},
		{"{{// never closed", 1, 1, `Unclosed "{{"`, diag.TemplateSyntax},
		{"{{}}", 1, 1, `Empty template command`, diag.TemplateSyntax},
		{"{{ }}", 1, 1, `Missing expression in placeholder`, diag.TemplateSyntax},
		{"{{if}}{{end}}", 1, 1, `Missing expression in {{if}}`, diag.TemplateSyntax},
		{"{{if }}{{end}}", 1, 1, `Missing expression in {{if}}`, diag.TemplateSyntax},
		{"{{: }}", 1, 1, `Missing expression in {{:}}`, diag.TemplateSyntax},
		{"{{$x}}", 1, 1, `Invalid template command: $x (expected`, diag.TemplateSyntax},
		{"{{$ := a}}", 1, 1, `Invalid template command: $ := a`, diag.TemplateSyntax},
		{"{{$x := }}", 1, 1, `Missing expression in {{$name :=}}`, diag.TemplateSyntax},
		{"{{ a ?? }}", 1, 8, `Missing operand of "??"`, diag.TemplateSyntax},
		{"{{ ?? a }}", 1, 4, `Missing operand of "??"`, diag.TemplateSyntax},
		{"{{ifa}}", 1, 1, `Invalid template command: ifa`, diag.TemplateSyntax},
		{"{{else x}}", 1, 1, `Invalid template command: else x`, diag.TemplateSyntax},
		{"{{ end }}x{{End}}", 1, 11, `Invalid template command: End`, diag.TemplateSyntax},
		{"ä{{x}}", 1, 2, `Invalid template command: x`, diag.TemplateSyntax},
		{"{\n  \"a\": {{ concat(a ?? b) }}", 2, 20, ``, diag.XPathSyntax},
		{"{{if a = }}{{end}}", 1, 9, ``, diag.XPathSyntax},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var pe *diag.PosError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): err = %v, want *diag.PosError", c.src, err)
			continue
		}
		if pe.Line != c.line || pe.Col != c.col || !strings.HasPrefix(pe.Msg, c.msg) || pe.Code != c.code {
			t.Errorf("Parse(%q) = %s %d:%d %q; want %s %d:%d %q", c.src, pe.Code, pe.Line, pe.Col, pe.Msg, c.code, c.line, c.col, c.msg)
		}
	}
}

func TestSplitCoalesce(t *testing.T) {
	cases := map[string]string{
		`a`:                         `a@0`,
		`a ?? b`:                    `a @0| b@4`,
		`concat("??", 'a??b') ?? x`: `concat("??", 'a??b') @0| x@23`,
		`f(a ?? b) ?? x[c??d]`:      `f(a ?? b) @0| x[c??d]@12`,
		`"unterminated ?? x`:        `"unterminated ?? x@0`,
		`a ?? ?? b`:                 `a @0| @4| b@7`,
		`a)) ?? b`:                  `a)) @0| b@6`,
		`a???b`:                     `a@0|?b@3`,
	}
	for in, want := range cases {
		var got []string
		splitCoalesce(in, func(s string, off int) { got = append(got, s+"@"+strconv.Itoa(off)) })
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("splitCoalesce(%q) = %q, want %q", in, g, want)
		}
	}
}

func TestCheckAll(t *testing.T) {
	src := "{{if a}}\n{{bad}}\n{{end}}\n{{end}}\n{{loop x}}"
	errs := Check(src)
	var got []string
	for _, e := range errs {
		pe := e.(*diag.PosError)
		got = append(got, pe.Msg[:8]+"@"+string(rune('0'+pe.Line)))
	}
	want := "Invalid @2,{{end}} @4,Unclosed@5"
	if strings.Join(got, ",") != want {
		t.Fatalf("Check = %q, want %q", strings.Join(got, ","), want)
	}
	if Check(`{"a": {{ a }}}`) != nil {
		t.Fatal("Check on a valid template returned errors")
	}
}

func TestParseNestingLimit(t *testing.T) {
	src := strings.Repeat("{{if a}}", maxNesting+5) + strings.Repeat("{{end}}", maxNesting+5)
	_, err := Parse(src)
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v", err)
	}
	src = strings.Repeat("{{if a}}", maxNesting) + strings.Repeat("{{end}}", maxNesting)
	if _, err := Parse(src); err != nil {
		t.Fatalf("nesting %d: %v", maxNesting, err)
	}
}
