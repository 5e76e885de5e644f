package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDuplicateNamesValidateAndServe: validate and serve refuse two
// projects of one name with the same FP106 error.
func TestDuplicateNamesValidateAndServe(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for _, d := range []string{"a/shop", "b/shop"} {
		dir := filepath.Join(root, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "swagger.yaml"), []byte("swagger: \"2.0\"\npaths: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	want := filepath.Join(root, "b/shop") + `: FP106: two projects are named "shop"`
	line := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if i := strings.Index(l, want); i >= 0 {
				return l[i:]
			}
		}
		return ""
	}
	var vout, verr bytes.Buffer
	if code := dispatch(context.Background(), append([]string{"validate"}, dirs...), &vout, &verr); code != 1 {
		t.Fatalf("validate: exit %d", code)
	}
	var sout, serr bytes.Buffer
	if code := dispatch(context.Background(), append([]string{"serve", "-admin", "off", "-listen", "127.0.0.1:0"}, dirs...), &sout, &serr); code != 1 {
		t.Fatalf("serve: exit %d", code)
	}
	v, s := line(vout.String()), line(serr.String())
	if v == "" || v != s {
		t.Errorf("validate says %q, serve says %q; want the same FP106 line", v, s)
	}
}
