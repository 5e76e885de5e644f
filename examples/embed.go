// Package examples embeds the example projects so the flowproc binary can
// run one with nothing else on disk.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FS holds the example projects, one directory each.
//
//go:embed hello apigee-hello
var FS embed.FS

// Default is the name of the project flowproc runs when given none.
const Default = "hello"

// Extract writes the example project name into a new temporary directory
// and returns its path. The caller removes it when done.
func Extract(name string) (string, error) {
	sub, err := fs.Sub(FS, name)
	if err != nil {
		return "", fmt.Errorf("example %q: %w", name, err)
	}
	tmp, err := os.MkdirTemp("", "flowproc-example-*")
	if err != nil {
		return "", fmt.Errorf("extract example: %w", err)
	}
	dir := filepath.Join(tmp, name)
	if err := os.CopyFS(dir, sub); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("extract example %q: %w", name, err)
	}
	return dir, nil
}
