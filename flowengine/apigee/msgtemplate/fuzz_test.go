package msgtemplate

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// FuzzParse: Parse never panics and fails only with *Error (code, column
// inside the source); rendering a parsed template never panics and fails
// only with *ExecError.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Hello {user.name}!", `{"a":"{b}","c":{}}`, "{{x}}", "{a:def}", "{toUpperCase(a)}",
		"{substring(a,1,3)}", "{jsonPath($.a[0],doc)}", "{xPath(/a/b,xml)}", "{replaceAll(a,'x(y)','$1')}",
		"{timeFormatUTCMs('yyyy-MM-dd',ts)}", "{hmacSha256(k,a,'utf8','hex')}", "{firstnonnull(x,a,'z')}",
		"{xeger('[a-z]{3}')}", "{randomLong(1,10)}", "{createUuid()}", "{decodeBase64(a)}", "{a", "{toUpperCase(",
	} {
		f.Add(s)
	}
	vars := flowvar.Map{"a": "ab(c)", "b": 7, "doc": `{"a":[1]}`, "xml": "<a><b>x</b></a>", "ts": 0, "k": "key", "user.name": "u"}
	f.Fuzz(func(t *testing.T, src string) {
		for _, d := range [][2]byte{{0, 0}, {'@', '#'}} {
			tp, err := Parse(src, d[0], d[1])
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) || pe.Code == "" || pe.Col < 1 || pe.Col > utf8.RuneCountInString(src)+1 {
					t.Fatalf("Parse(%q): bad error %T %v", src, err, err)
				}
				continue
			}
			if _, _, err := tp.String(vars); err != nil {
				var ee *ExecError
				if !errors.As(err, &ee) {
					t.Fatalf("String(%q): error %T %v, want *ExecError", src, err, err)
				}
			}
		}
	})
}
