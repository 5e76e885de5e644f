package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flowproc/flowproc/flowengine/projects"
)

// devDirs returns the project directories "flowproc dev" serves: args when
// given; else the current directory when it holds a project (a FLAT app or
// an Apigee layout, as projects.Detect decides), like FLAT's "flat start";
// else none, which serves the embedded example. It says on w which one it
// chose when args is empty.
func devDirs(args []string, w io.Writer) []string {
	if len(args) > 0 {
		return args
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(w, "flowproc dev: no DIR given and the current directory is unreadable (%v); serving the embedded example\n", err)
		return nil
	}
	l, derr := projects.Detect(cwd)
	if derr != nil {
		fmt.Fprintf(w, "flowproc dev: no DIR given and no project in the current directory; serving the embedded example\n")
		return nil
	}
	// The absolute path names the project after the directory, not ".".
	fmt.Fprintf(w, "flowproc dev: no DIR given; serving the %s project in the current directory %s\n", l.Kind(), cwd)
	return []string{cwd}
}

// missingDir reports whether arg, which os.Stat answered with err, names a
// directory that does not exist: it does not exist and has no file
// extension (test files end in .xml or .yaml).
func missingDir(arg string, err error) bool {
	return errors.Is(err, fs.ErrNotExist) && filepath.Ext(filepath.Clean(arg)) == ""
}
