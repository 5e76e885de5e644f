package expr

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// projectRoot makes a project directory with a flow directory and files,
// a symbolic link leaving it, and returns a Context confined to it.
func projectRoot(t *testing.T) *Context {
	t.Helper()
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.json"), `{"k":"s3cr3t"}`)
	proj := t.TempDir()
	write(t, filepath.Join(proj, "api", "flow.xml"), `<flow/>`)
	write(t, filepath.Join(proj, "db", "my.json"), `{"full_name":"Ann","n":1.50,"b":true,"nil":null,"obj":{"k": "v"},"arr":[1, 2],"esc":"a\"b"}`)
	write(t, filepath.Join(proj, "db", "bad.json"), `{"k":`)
	write(t, filepath.Join(proj, "db", "list.json"), `[1]`)
	write(t, filepath.Join(proj, "db", "x.shmt"), `shmt`)
	link(t, outside, filepath.Join(proj, "out"))
	root, err := os.OpenRoot(proj)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return &Context{Root: root, Dir: filepath.Join(proj, "api")}
}

// fitRuntime is a FitResolver knowing fit://request/content/main.
type fitRuntime struct{}

func (fitRuntime) FitExists(uri string) bool { return uri == "fit://request/content/main" }

func TestFnFileExists(t *testing.T) {
	c := projectRoot(t)
	for _, tc := range []struct {
		uri     string
		runtime any
		want    any // bool, or the error
	}{
		{"fit://site/api/flow.xml", nil, true},
		{"fit://project/api/flow.xml", nil, true},
		{"fit://site/api/", nil, true},
		{"fit://site/api", nil, true},
		{"fit://site/", nil, true},
		{"fit://site/api/flow.xml/", nil, false}, // a file is no directory
		{"fit://site/api/missing.xml", nil, false},
		{"fit://site/db/../api/flow.xml", nil, true},
		{"fit://request/content", nil, true},
		{"fit://request/empty", nil, true},
		{"fit://request/content/main", fitRuntime{}, true},
		{"fit://request/content/other", fitRuntime{}, false},
		{"fit://request/content/main", nil, ErrFitURL},
		{"fit://site/../x", nil, ErrBadPath},
		{"fit://site//etc/passwd", nil, ErrBadPath},
		{"fit://site/out/secret.json", nil, ErrBadPath},
		{"api/flow.xml", nil, ErrFitURL},
		{"/etc/passwd", nil, ErrFitURL},
		{"http://example.com/", nil, ErrFitURL},
		{"", nil, ErrFitURL},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			v, err := MustCompile("file-exists($u)").Eval(&Context{Root: c.Root, Dir: c.Dir, Runtime: tc.runtime, Scope: mapScope{"u": tc.uri}})
			if want, ok := tc.want.(error); ok {
				var fe *FileError
				if !errors.Is(err, want) || !errors.As(err, &fe) {
					t.Fatalf("= %v, %v; want error %v", v, err, want)
				}
				return
			}
			if err != nil || v != tc.want {
				t.Fatalf("= %v, %v; want %v", v, err, tc.want)
			}
		})
	}
	// Without a Root, fit://site/ is the flow's directory.
	v, err := MustCompile("file-exists('fit://site/flow.xml')").Eval(&Context{Dir: c.Dir})
	if err != nil || v != true {
		t.Fatalf("without Root: %v, %v", v, err)
	}
}
