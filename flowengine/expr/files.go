package expr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrBadPath is wrapped by errors of functions that read files when the
// path is absolute or leaves the project directory (also through a
// symbolic link).
var ErrBadPath = errors.New("path must be relative and stay inside the project directory")

// ErrFileNotFound is wrapped by errors of functions that read files when
// the file does not exist.
var ErrFileNotFound = errors.New("file not found")

// errNotJSON is the cause of a json-doc error for a file that does not
// parse (the parser's message may quote the file, so it is not shown).
var errNotJSON = errors.New("not valid JSON")

// FileError is the error of a function that cannot read a file. Its
// message names the file only as the expression wrote it: it never shows
// server paths or file contents, so it is safe to return to clients.
type FileError struct {
	// Func is the function name, e.g. "json-doc".
	Func string
	// Name is the path as written in the expression.
	Name string
	// Err is ErrBadPath, ErrFileNotFound or the underlying error.
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	msg := "cannot be read"
	switch {
	case errors.Is(e.Err, ErrBadPath):
		msg = ErrBadPath.Error()
	case errors.Is(e.Err, ErrFileNotFound):
		msg = ErrFileNotFound.Error()
	case errors.Is(e.Err, errNotJSON):
		msg = errNotJSON.Error()
	case errors.Is(e.Err, ErrFitURL):
		msg = ErrFitURL.Error()
	case errors.Is(e.Err, errUnsupportedDB):
		msg = errUnsupportedDB.Error()
	case errors.Is(e.Err, errDBExt):
		msg = errDBExt.Error()
	}
	return e.Func + " " + quote(e.Name) + ": " + msg
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// fileRoot returns the root a function reads rel from (c.Root, or a root
// opened at c.Dir when there is none; close must be called) and rel's
// name inside it.
func fileRoot(c *Context, rel string) (root *os.Root, name string, close func(), err error) {
	if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || strings.ContainsRune(rel, 0) {
		return nil, "", nil, ErrBadPath
	}
	root, close = c.Root, func() {}
	base := "."
	if root == nil {
		if root, err = os.OpenRoot(c.Dir); err != nil {
			return nil, "", nil, ErrFileNotFound
		}
		close = func() { root.Close() }
	} else if c.Dir != "" {
		if base, err = filepath.Rel(root.Name(), c.Dir); err != nil || !filepath.IsLocal(base) && base != "." {
			return nil, "", nil, ErrBadPath // the flow itself is outside the root
		}
	}
	name = filepath.Join(base, filepath.FromSlash(rel))
	if !filepath.IsLocal(name) {
		close()
		return nil, "", nil, ErrBadPath
	}
	return root, name, close, nil
}

// classifyFileErr maps an os.Root error to ErrFileNotFound, ErrBadPath
// (escapes, including through symbolic links) or itself.
func classifyFileErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrFileNotFound
	}
	if strings.Contains(err.Error(), "escapes") {
		return ErrBadPath
	}
	return err
}
