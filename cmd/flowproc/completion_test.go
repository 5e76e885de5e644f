package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBashCompletion checks the bash script's syntax (bash -n), then
// sources it and calls _flowproc for command names, flags, flag values and
// directory arguments.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	var script bytes.Buffer
	if code := dispatch(context.Background(), []string{"completion", "bash"}, &script, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "flowproc.bash")
	if err := os.WriteFile(file, script.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, d := range []string{"apps/shop", "apps/blog"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "apps", "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string // the command line; the last word is completed
		want  string   // COMPREPLY joined with spaces
	}{
		{[]string{"flowproc", "v"}, "validate version"},
		{[]string{"flowproc", "help", "he"}, "healthcheck help"},
		{[]string{"flowproc", "dev", "--wa"}, "--watch"},
		{[]string{"flowproc", "dev", "-tr"}, "-trace -trace-mask-headers"},
		{[]string{"flowproc", "dev", "apps/"}, "apps/blog apps/shop"},
		{[]string{"flowproc", "dev", "apps/shop", "-upstream", ""}, ""},
		{[]string{"flowproc", "serve", "-config", "apps/no"}, "apps/notes.txt"},
		{[]string{"flowproc", "completion", "f"}, "fish"},
	} {
		line := "source " + file + "; cd " + dir + "; COMP_WORDS=(" + shellWords(tc.words) + "); COMP_CWORD=" +
			itoa(len(tc.words)-1) + "; _flowproc; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command(bash, "-c", line).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("complete %q: %q, want %q", tc.words, got, tc.want)
		}
	}
}

func shellWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCompletionShells(t *testing.T) {
	for _, tc := range []struct {
		shell string
		want  []string
	}{
		{"zsh", []string{"bashcompinit", "complete -o filenames -F _flowproc flowproc"}},
		{"fish", []string{"complete -c flowproc -n __fish_use_subcommand -a dev -d", "complete -c flowproc -n '__fish_seen_subcommand_from dev' -l upstream", "complete -c flowproc -n '__fish_seen_subcommand_from validate' -a '(__fish_complete_directories)'"}},
	} {
		var out bytes.Buffer
		if code := dispatch(context.Background(), []string{"completion", tc.shell}, &out, io.Discard); code != 0 {
			t.Fatalf("%s: exit %d", tc.shell, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s script lacks %q", tc.shell, w)
			}
		}
	}
	if code := dispatch(context.Background(), []string{"completion", "tcsh"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown shell: exit %d, want 2", code)
	}
}
