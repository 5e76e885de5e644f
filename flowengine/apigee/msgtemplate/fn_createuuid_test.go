package msgtemplate

import (
	"regexp"
	"testing"
)

func TestFnCreateUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tp := MustParse("{createUuid()}")
	seen := map[string]bool{}
	for range 50 {
		s, _, err := tp.String(nil)
		if err != nil || !re.MatchString(s) {
			t.Fatalf("createUuid() = %q, %v", s, err)
		}
		if seen[s] {
			t.Fatalf("createUuid() repeated %s", s)
		}
		seen[s] = true
	}
	runFnCases(t, []fnCase{{tmpl: "{createUuid(a)}", err: CodeArity}})
}
