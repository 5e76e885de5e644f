package expr

import (
	"strings"
	"testing"
)

func TestFnHTMLParse(t *testing.T) {
	deep := strings.Repeat("<div>", 600)
	sc := mapScope{
		"h":    `<!DOCTYPE html><html><body><main><p class="A">one</p><!-- c --><p>two &amp; <b>three</b></p></main><svg><circle r="1"/></svg></body></html>`,
		"frag": `<P ID=x>hi`,
		"deep": deep,
	}
	for _, tc := range []struct {
		src, want string
		warns     int
	}{
		{"html-parse($h)", "[#doc]", 0},
		{"html-parse($h)/html/body/main/p[1]", "[p=one]", 0},
		{"html-parse($h)/html/body/main/p[2]", "[p=two & three]", 0},
		{"html-parse($h)/html/body/main/p[1]/@class", "[@class=A]", 0},
		{"count(html-parse($h)//comment())", "0", 0},
		{"html-parse($h)//circle/@r", "[@r=1]", 0},
		{"html-parse($frag)/html/body/p/@id", "[@id=x]", 0},
		{"count(html-parse('')/html/head)", "1", 0},
		{"html-parse($deep)", "[]", 1},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, warns := evalWarn(t, tc.src, sc)
			if got := show(v); got != tc.want || len(warns) != tc.warns {
				t.Errorf("got %s with warnings %q, want %s with %d", got, warns, tc.want, tc.warns)
			}
		})
	}
}

// FuzzHTMLParse checks that html-parse never panics and always yields a
// document or an error.
func FuzzHTMLParse(f *testing.F) {
	for _, s := range []string{"<p>x", "<table><tr><td>1</table>", "<svg><foreignObject><p>", "<!-- x", "&#0;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := parseHTML(s)
		if err == nil && (doc == nil || doc.FirstChild == nil) {
			t.Fatalf("parseHTML(%q): no document element", s)
		}
	})
}
