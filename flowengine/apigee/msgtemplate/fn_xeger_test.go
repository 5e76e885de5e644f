package msgtemplate

import (
	"regexp"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnXeger(t *testing.T) {
	for _, pat := range []string{
		`[A-Z]{3}-[0-9]{4}`, `(foo|bar)+baz?`, `a.c`, `[^a-z]x`, `(?i)abc`, `\d{2,}`, `x*`, `^id_[a-f0-9]{8}$`, `é[ü-ÿ]`,
	} {
		tp, err := Parse("{xeger(p)}", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		lit := MustParse("{xeger('" + pat + "')}")
		re := regexp.MustCompile(`^(?:` + pat + `)$`)
		for range 30 {
			for _, x := range []*Template{tp, lit} {
				s, _, err := x.String(flowvar.Map{"p": pat})
				if err != nil || !re.MatchString(s) {
					t.Fatalf("xeger(%q) = %q, %v: does not match", pat, s, err)
				}
			}
		}
	}
	runFnCases(t, []fnCase{
		{tmpl: "{xeger('(')}", err: CodeBadArgument},
		{tmpl: "{xeger(p)}", vars: flowvar.Map{"p": "["}, err: CodeFunctionFailed},
		{tmpl: "{xeger()}", err: CodeArity},
	})
}
