package e2e

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/envoy"
	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/devstack"
)

// exampleDirs are the example projects every e2e run serves; hello is the
// default project.
var exampleDirs = []string{"../examples/hello", "../deploy/projects/example"}

func loadExamples(t *testing.T) *projects.Set {
	t.Helper()
	set, err := projects.Load(exampleDirs, "hello", projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			t.Fatalf("project %s does not load:\n%v", e.Name, e.Errors)
		}
	}
	return set
}

// TestFaithful runs the suite through flowproc dev's stack: the
// Envoy-faithful client configured from envoy/envoy.yaml.
func TestFaithful(t *testing.T) {
	up := newUpstream(t)
	stack, err := devstack.Start(context.Background(), devstack.Config{
		Projects:    loadExamples(t),
		EnvoyConfig: envoy.DefaultConfigYAML,
		HTTPAddr:    "127.0.0.1:0",
		Upstream:    &envoy.HTTPUpstream{Addr: strings.TrimPrefix(up.srv.URL, "http://")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	runCases(t, "http://"+stack.HTTPAddr, up)
}
