package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestServeFlagsDocumented: every serve flag has a row in docs/server.md's
// flag table, and the documented flowproc.yaml example is a valid config.
func TestServeFlagsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	if _, err := parseServeArgs([]string{"-h"}, &usage); err == nil {
		t.Fatal("-h did not stop parsing")
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(usage.String(), -1)
	if len(flags) < 20 {
		t.Fatalf("found only %d flags in the usage:\n%s", len(flags), usage.String())
	}
	for _, f := range flags {
		if !bytes.Contains(doc, []byte("| `-"+f[1])) {
			t.Errorf("flag -%s has no row in docs/server.md", f[1])
		}
	}
	m := regexp.MustCompile("(?s)```yaml\n# flowproc.yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/server.md has no flowproc.yaml example")
	}
	cfg := defaultServeConfig()
	if err := yaml.UnmarshalStrict(m[1], &cfg); err != nil {
		t.Fatalf("the documented flowproc.yaml does not parse: %v", err)
	}
	cfg.TLS = tlsFiles{} // the example's certificate paths do not exist here
	if _, err := cfg.check(); err != nil && !strings.Contains(err.Error(), "tls") {
		t.Fatalf("the documented flowproc.yaml is invalid: %v", err)
	}
}
