package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowproc/flowproc/examples"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// projectSet is what the serving commands need from loaded projects: pick
// the runner for a request by explicit project name or by request path.
type projectSet interface {
	// Resolve returns the runner and project name for a request. name is the
	// x-flowproc-project metadata value ("" when absent); path is the
	// request's :path. ok is false when no project matches.
	Resolve(name, path string) (runner flowengine.Runner, project string, ok bool)
}

// loadProjects loads the projects in dirs (the embedded example when dirs is
// empty). defaultProject names the project for requests no other rule
// selects ("" = the first). Load errors of individual projects are reported
// through report; such projects answer 503 on their routes while the others
// serve.
func loadProjects(dirs []string, defaultProject string, report func(error)) (projectSet, error) {
	return loadProjectsWith(dirs, defaultProject, flat.Options{}, report)
}

// loadProjectsWith is loadProjects with engine options (body limit…).
func loadProjectsWith(dirs []string, defaultProject string, opts flat.Options, report func(error)) (*projects.Set, error) {
	if len(dirs) == 0 {
		dir, err := examples.Extract(examples.Default)
		if err != nil {
			return nil, err
		}
		// The extracted copy lives for the process; remove it at exit is
		// not possible for a long-running server, so it goes in os.TempDir.
		dirs = []string{dir}
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("project directory %s: not a directory", filepath.Clean(d))
		}
	}
	set, err := projects.Load(dirs, defaultProject, opts)
	if err != nil {
		return nil, err
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 && report != nil {
			report(fmt.Errorf("project %s failed to load (its routes answer 503):\n%w", e.Name, e.Errors))
		}
	}
	return set, nil
}
