package apidef

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// TestDefinitionConfinement checks that the definition file cannot be
// outside the project directory: not by an absolute or "../" src in
// conf/config.xml, not through a symbolic link.
func TestDefinitionConfinement(t *testing.T) {
	outside := t.TempDir()
	def := filepath.Join(outside, "def.yaml")
	if err := os.WriteFile(def, []byte("swagger: \"2.0\"\npaths: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		link  string // project file made a symlink to def
	}{
		{"absolute src", map[string]string{"conf/config.xml": `<config><flat><definition src="` + def + `"/></flat></config>`}, ""},
		{"../ src", map[string]string{"conf/config.xml": `<config><flat><definition src="../../../` + filepath.Base(outside) + `/def.yaml"/></flat></config>`}, ""},
		{"symlinked swagger.yaml", map[string]string{"README": "x"}, "swagger.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, c.files)
			if c.link != "" {
				if err := os.Symlink(def, filepath.Join(dir, c.link)); err != nil {
					t.Skip(err)
				}
			}
			_, errs := Load(dir)
			if len(errs) != 1 || errs[0].Code != diag.OutsideProject {
				t.Fatalf("errs = %v, want one %s", errs, diag.OutsideProject)
			}
		})
	}
}
