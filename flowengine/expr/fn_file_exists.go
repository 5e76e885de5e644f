package expr

import (
	"errors"
	"fmt"
	"strings"
)

// file-exists(url) reports whether a fit:// URL names an existing file or
// directory: fit://site/path and fit://project/path are files of the
// project directory (Context.Root; a trailing "/" requires a directory),
// fit://request/content and fit://request/empty always exist, and other
// fit://request/… URLs are asked of Context.Runtime (a FitResolver). Any
// other URL, or a fit://request/… URL without a FitResolver, is an
// evaluation error wrapping ErrFitURL; a path leaving the project
// directory (also through a symbolic link) is one wrapping ErrBadPath.
func init() {
	Register(&Func{Name: "file-exists", MinArgs: 1, MaxArgs: 1, Call: fileExists})
}

func fileExists(c *Context, args []Value) (Value, error) {
	uri := String(args[0])
	fail := func(err error) (Value, error) { return nil, &FileError{Func: "file-exists", Name: uri, Err: err} }
	if strings.HasPrefix(uri, "fit://request/") {
		switch strings.TrimRight(uri, "/") {
		case "fit://request/content", "fit://request/empty":
			return true, nil
		}
		if r, ok := c.Runtime.(FitResolver); ok {
			return r.FitExists(uri), nil
		}
		return fail(fmt.Errorf("%w: no exchange to resolve it", ErrFitURL))
	}
	root, name, dir, closeRoot, err := fitFile(c, uri)
	if err != nil {
		return fail(err)
	}
	defer closeRoot()
	st, err := root.Stat(name)
	if err != nil {
		if err := classifyFileErr(err); errors.Is(err, ErrBadPath) {
			return fail(err)
		}
		return false, nil
	}
	return !dir || st.IsDir(), nil
}
