package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		v       bool
		up      string
		pos     []string
		wantErr bool
	}{
		{args: []string{"./app", "--upstream", "http://x"}, up: "http://x", pos: []string{"./app"}},
		{args: []string{"./app", "-v"}, v: true, pos: []string{"./app"}},
		{args: []string{"-v", "a", "-upstream=u", "b"}, v: true, up: "u", pos: []string{"a", "b"}},
		{args: []string{"a", "--", "-v", "b"}, pos: []string{"a", "-v", "b"}},
		{args: []string{"-upstream", "--", "a"}, up: "--", pos: []string{"a"}},
		{args: []string{"a", "-", "b"}, pos: []string{"a", "-", "b"}},
		{args: []string{"a", "-nosuch"}, wantErr: true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		v := fs.Bool("v", false, "")
		up := fs.String("upstream", "", "")
		err := parseInterspersed(fs, tc.args)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.args, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if *v != tc.v || *up != tc.up || strings.Join(fs.Args(), "|") != strings.Join(tc.pos, "|") {
			t.Errorf("%q: v=%v upstream=%q args=%q; want %v %q %q", tc.args, *v, *up, fs.Args(), tc.v, tc.up, tc.pos)
		}
	}
}

// TestEveryCommandHelp: "-h", "--help" and "flowproc help CMD" exit 0 for
// every registered command, and help CMD prints the usage on stdout; each
// command parses through parseInterspersed (so completion knows its flags).
func TestEveryCommandHelp(t *testing.T) {
	for _, c := range describeCommands() {
		t.Run(c.name, func(t *testing.T) {
			if c.flags == nil {
				t.Errorf("%s does not parse its arguments with parseInterspersed", c.name)
			}
			for _, h := range []string{"-h", "--help"} {
				if code := dispatch(context.Background(), []string{c.name, h}, io.Discard, io.Discard); code != 0 {
					t.Errorf("flowproc %s %s: exit %d, want 0", c.name, h, code)
				}
			}
			var out bytes.Buffer
			if code := dispatch(context.Background(), []string{"help", c.name}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "Usage: flowproc "+c.name) {
				t.Errorf("flowproc help %s: exit %d, output %q", c.name, code, out.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "Commands:") {
		t.Errorf("flowproc alone: exit %d, stderr %q", code, errb.String())
	}
	if code := dispatch(context.Background(), []string{"help", "nosuch"}, &out, &errb); code != 2 {
		t.Errorf("flowproc help nosuch: exit %d, want 2", code)
	}
}

// TestFlagsAfterDirectory: "flowproc dev DIR --flag" reads the flag (it
// used to take "--upstream" for a second directory), and a missing or
// file DIR says so.
func TestFlagsAfterDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dev", "./no-such-app", "--upstream", "http://127.0.0.1:1", "-listen", "127.0.0.1:0"}, "project directory no-such-app: no such directory"},
		{[]string{"dev", file, "-listen", "127.0.0.1:0"}, "is a file, not a directory"},
		{[]string{"serve", "./no-such-app", "-admin", "off"}, "project directory no-such-app: no such directory"},
		{[]string{"validate", "./no-such-app", "-nosuchflag"}, "flag provided but not defined: -nosuchflag"},
	} {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), tc.args, &out, &errb)
		if code == 0 || !strings.Contains(errb.String()+out.String(), tc.want) {
			t.Errorf("flowproc %q: exit %d, output %q %q; want %q", tc.args, code, out.String(), errb.String(), tc.want)
		}
	}
}

func TestDevDirs(t *testing.T) {
	var out bytes.Buffer
	if got := devDirs([]string{"a"}, &out); len(got) != 1 || got[0] != "a" || out.Len() != 0 {
		t.Errorf("with DIR: %q %q", got, out.String())
	}
	empty := t.TempDir()
	t.Chdir(empty)
	out.Reset()
	if got := devDirs(nil, &out); got != nil || !strings.Contains(out.String(), "serving the embedded example") {
		t.Errorf("empty cwd: %q %q", got, out.String())
	}
	app := filepath.Join(t.TempDir(), "shop")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "swagger.yaml"), []byte("swagger: \"2.0\"\npaths: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(app)
	out.Reset()
	cwd, _ := os.Getwd()
	if got := devDirs(nil, &out); len(got) != 1 || got[0] != cwd || !strings.Contains(out.String(), "serving the flat project in the current directory "+cwd) {
		t.Errorf("app cwd: %q %q", got, out.String())
	}
}

func TestServeConfigErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"LISTEN: \":1\"\n", `:1:1: unknown key "LISTEN" (keys are case-sensitive: did you mean "listen"?)`},
		{"listen: \":1\"\ntls:\n  Cert: x\n", `:3:3: unknown key "Cert" (keys are case-sensitive: did you mean "cert"?)`},
		{"nosuch: 1\n", `:1:1: unknown key "nosuch" (known keys: admin,`},
		{"watch: maybe\n", `:1:8: watch: want a boolean (true or false), not a string`},
		{"projects: x\n", `:1:11: projects: want a list, not a string`},
		{"listen: a\nlisten: b\n", `:2:1: key "listen" is given twice (first at line 1)`},
		{"listen: [1\n", `:2:1: while parsing a flow sequence: did not find expected ',' or ']'`},
		{"- a\n", `:1:1: the config: want a mapping of keys`},
	}
	for _, tc := range tests {
		file := filepath.Join(t.TempDir(), "serve.yaml")
		if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := parseServeArgs([]string{"-config", file}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), file+tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, file+tc.want)
		}
	}
	// Valid keys still apply, flags still override them.
	file := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(file, []byte("listen: \":7000\"\nwatch: true\ntls: {}\nprojects: [a, b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := parseServeArgs([]string{"-config", file, "-listen", ":7001"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if st.Listen != ":7001" || !st.Watch || strings.Join(st.Projects, ",") != "a,b" {
		t.Errorf("settings %+v", st.serveConfig)
	}
}

func TestTestMissingDirectory(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"test", "./no-such-app", "-v"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "./no-such-app: no such directory") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
