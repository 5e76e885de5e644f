package expr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// ErrFitURL is wrapped by errors of functions given a location that is
// not a fit:// URL they can resolve.
var ErrFitURL = errors.New("not a supported fit:// URL")

// FitResolver is implemented by a Context.Runtime that knows the
// exchange's fit://request/… resources (upstream contents by id).
type FitResolver interface {
	// FitExists reports whether the fit://request/… resource uri exists.
	FitExists(uri string) bool
}

// fitFile resolves fit://site/path and fit://project/path (both the
// project directory, Context.Root; without one, Context.Dir) to the root
// and the name inside it. The path may not leave the root (ErrBadPath).
// dir is true when the URL ends in "/".
func fitFile(c *Context, uri string) (root *os.Root, name string, dir bool, close func(), err error) {
	var rest string
	switch {
	case strings.HasPrefix(uri, "fit://site/"):
		rest = uri[len("fit://site/"):]
	case strings.HasPrefix(uri, "fit://project/"):
		rest = uri[len("fit://project/"):]
	default:
		return nil, "", false, nil, ErrFitURL
	}
	if strings.ContainsRune(rest, 0) || strings.HasPrefix(rest, "/") {
		return nil, "", false, nil, ErrBadPath
	}
	dir = strings.HasSuffix(rest, "/")
	rest = strings.TrimRight(rest, "/")
	if rest == "" {
		rest = "."
	}
	name = filepath.Clean(filepath.FromSlash(rest))
	if !filepath.IsLocal(name) && name != "." {
		return nil, "", false, nil, ErrBadPath
	}
	root, close = c.Root, func() {}
	if root == nil {
		if root, err = os.OpenRoot(c.Dir); err != nil {
			return nil, "", false, nil, ErrFileNotFound
		}
		close = func() { root.Close() }
	}
	return root, name, dir, close, nil
}
