package expr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileConfinement checks that json-doc reads only inside the project
// root, never through a symbolic link leaving it, and that its errors show
// no server path or file content.
func TestFileConfinement(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.json")
	write(t, secret, `{"secret":"s3cr3t"}`)
	proj := t.TempDir()
	write(t, filepath.Join(proj, "conf", "user.json"), `{"name":"brenda"}`)
	write(t, filepath.Join(proj, "flows", "bad.json"), `{"token":"t0ken" oops`)
	link(t, secret, filepath.Join(proj, "flows", "out.json"))
	link(t, outside, filepath.Join(proj, "flows", "outdir"))
	link(t, filepath.Join("..", "conf", "user.json"), filepath.Join(proj, "flows", "in.json"))
	// os.Root refuses absolute link targets, even ones inside the root.
	link(t, filepath.Join(proj, "conf"), filepath.Join(proj, "flows", "confdir"))
	link(t, filepath.Join("..", "conf"), filepath.Join(proj, "flows", "confrel"))
	root, err := os.OpenRoot(proj)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	c := &Context{Root: root, Dir: filepath.Join(proj, "flows")}
	tests := []struct {
		path string
		want error // nil: reads brenda
	}{
		{"../conf/user.json", nil},
		{"in.json", nil},
		{"confrel/user.json", nil},
		{"confdir/user.json", ErrBadPath},
		{"../../x.json", ErrBadPath},
		{"../../" + filepath.Base(outside) + "/secret.json", ErrBadPath},
		{secret, ErrBadPath},
		{"/etc/passwd", ErrBadPath},
		{"out.json", ErrBadPath},
		{"outdir/secret.json", ErrBadPath},
		{"missing.json", ErrFileNotFound},
		{"bad.json", errNotJSON},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			v, err := MustCompile("json-doc($p)/name").Eval(&Context{Root: c.Root, Dir: c.Dir, Scope: mapScope{"p": tt.path}})
			if tt.want == nil {
				if err != nil || show(v) != "[name=brenda]" {
					t.Fatalf("= %s, %v", show(v), err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			for _, leak := range []string{proj, outside, "s3cr3t", "t0ken"} {
				if strings.Contains(msg, leak) && !strings.Contains(tt.path, leak) {
					t.Fatalf("message %q leaks %q", msg, leak)
				}
			}
		})
	}
	// A flow outside the root cannot read at all.
	if _, err := MustCompile("json-doc('secret.json')").Eval(&Context{Root: root, Dir: outside}); !errors.Is(err, ErrBadPath) {
		t.Fatalf("flow outside the root: err = %v", err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}
