package projects_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine/projects"
)

// TestLastReload: the registry remembers its latest reload, whatever
// triggered it, for the status API.
func TestLastReload(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]*string{"a/swagger.yaml": swagger("/a", "f.xml"), "a/f.xml": echo("v1")})
	reg, err := projects.NewRegistry([]string{filepath.Join(root, "a")}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if reg.LastReload() != nil {
		t.Fatal("LastReload before any reload")
	}
	writeFiles(t, root, map[string]*string{"a/f.xml": str("<flow><nope/></flow>")})
	if _, err := reg.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	last := reg.LastReload()
	if last == nil || last.Time.IsZero() || last.Err != nil || len(last.Report.Projects) != 1 || last.Report.Projects[0].Outcome != projects.KeptLastGood {
		t.Fatalf("LastReload = %+v", last)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = reg.Reload(ctx)
	if last := reg.LastReload(); last == nil || !errors.Is(last.Err, context.Canceled) {
		t.Errorf("LastReload after a cancelled reload = %+v", last)
	}
}
