// Package corpus finds the public Apigee bundle corpus that tests read:
// $FLOWPROC_APIGEE_CORPUS, else ../shared/corpus/apigee beside the
// repository (where the workplace and CI keep it).
package corpus

import (
	"os"
	"path/filepath"
)

// ApigeeDir returns the corpus directory and whether it exists.
func ApigeeDir() (string, bool) {
	if d := os.Getenv("FLOWPROC_APIGEE_CORPUS"); d != "" {
		return d, isDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "corpus", "apigee")
			return d, isDir(d)
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
