package bundle

import (
	"archive/zip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeZip(t *testing.T, entries map[string]fs.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, mode := range entries {
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("<x/>")); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenZip(t *testing.T) {
	cases := []struct {
		name    string
		entries map[string]fs.FileMode
		wantErr string
	}{
		{"ok", map[string]fs.FileMode{"apiproxy/proxies/default.xml": 0o644}, ""},
		{"dotdot", map[string]fs.FileMode{"apiproxy/../../etc/passwd": 0o644}, "escapes"},
		{"absolute", map[string]fs.FileMode{"/etc/passwd": 0o644}, "relative"},
		{"backslash", map[string]fs.FileMode{`apiproxy\..\x`: 0o644}, "relative"},
		{"symlink", map[string]fs.FileMode{"apiproxy/link": fs.ModeSymlink | 0o777}, "symlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys, closeFn, err := OpenZip(writeZip(t, c.entries))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			b, err := fs.ReadFile(fsys, "apiproxy/proxies/default.xml")
			if err != nil || string(b) != "<x/>" {
				t.Fatalf("read = %q, %v", b, err)
			}
		})
	}
}
