package engine

import (
	"fmt"
	"io/fs"
	"net/url"
)

type fsFS = fs.FS

func subFS(f fs.FS, dir string) (fs.FS, error) {
	if _, err := fs.Stat(f, dir); err != nil {
		return nil, err
	}
	return fs.Sub(f, dir)
}

// parseTargetURL checks a target URL: absolute http(s) with a host.
func parseTargetURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	return u, nil
}
