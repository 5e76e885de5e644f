package expr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFnLookup(t *testing.T) {
	c := projectRoot(t)
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"lookup('fit://site/db/my.json', 'full_name')", `"Ann"`},
		{"lookup('fit://project/db/my.json', 'full_name', 'John Doe')", `"Ann"`},
		{"lookup('../db/my.json', 'full_name')", `"Ann"`},
		{"lookup('fit://site/db/my.json', 'missing', 'John Doe')", `"John Doe"`},
		{"lookup('fit://site/db/my.json', 'missing')", `""`},
		{"lookup('fit://site/db/my.json', 'nil', 'd')", `"d"`},
		{"lookup('fit://site/db/my.json', 'n')", `"1.50"`},
		{"lookup('fit://site/db/my.json', 'b')", `"true"`},
		{"lookup('fit://site/db/my.json', 'obj')", `"{\"k\":\"v\"}"`},
		{"lookup('fit://site/db/my.json', 'arr')", `"[1,2]"`},
		{"lookup('fit://site/db/my.json', 'esc')", `"a\"b"`},
		{"json-to-xml(lookup('fit://site/db/my.json', 'obj'))/json/k", "[k=v]"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, err := MustCompile(tc.src).Eval(c)
			if err != nil || show(v) != tc.want {
				t.Fatalf("= %s, %v; want %s", show(v), err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"lookup('fit://site/db/x.shmt', 'k')", errUnsupportedDB},
		{"lookup('fit://site/db/my.JSON', 'k')", errDBExt},
		{"lookup('fit://site/api/flow.xml', 'k')", errDBExt},
		{"lookup('fit://site/db/bad.json', 'k')", errNotJSON},
		{"lookup('fit://site/db/list.json', 'k')", errNotJSON},
		{"lookup('fit://site/db/none.json', 'k')", ErrFileNotFound},
		{"lookup('fit://site/out/secret.json', 'k')", ErrBadPath},
		{"lookup('fit://site/../secret.json', 'k')", ErrBadPath},
		{"lookup('/etc/x.json', 'k')", ErrBadPath},
		{"lookup('fit://request/content.json', 'k')", ErrFitURL},
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := MustCompile(tc.src).Eval(c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("message leaks the file: %v", err)
			}
		})
	}
	// The cache follows changes of the file.
	p := filepath.Join(c.Root.Name(), "db", "my.json")
	write(t, p, `{"full_name":"Bea, changed"}`)
	_ = os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	v, err := MustCompile("lookup('fit://site/db/my.json', 'full_name')").Eval(c)
	if err != nil || v != "Bea, changed" {
		t.Fatalf("after change: %v, %v", v, err)
	}
}
