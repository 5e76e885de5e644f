package flat

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <serve dir fallback-doc terminate out/> is a static file server
// (FLAT docs: serve): $request/path is resolved inside dir= (relative
// to the flow, inside the project). A directory serves its index.html, and
// a directory path without a trailing slash is redirected (301) to the
// path with one. A found file is answered 200 with Content-Type (from its
// suffix) and Last-Modified (the host sets Content-Length); a file that cannot be read is 403; a missing
// one gets fallback-doc= with 200. terminate="false" lets the flow go on;
// out="$v" stores the file's content instead of answering. Files never
// leave the project (os.Root). Range requests are not supported: the
// whole file is sent.

func init() {
	registerAction("serve", &actionSpec{attrs: []string{"dir", "fallback-doc", "terminate", "out"}, compile: compileServe})
}

// serveMaxBytes bounds one served file; larger files are 403 (serve is
// for small static assets, not downloads).
const serveMaxBytes = 64 << 20

type serveAction struct {
	dir       string // inside the project root, slash-separated
	fallback  string // inside the project root
	terminate bool
	out       location
}

func compileServe(c *compiler, f *Flow, e *xmlsrc.Element) action {
	d, ok := c.requireAttr(f, e, "dir")
	if !ok {
		return nil
	}
	fb, ok := c.requireAttr(f, e, "fallback-doc")
	if !ok {
		return nil
	}
	a := &serveAction{terminate: true, out: c.location(f, e, "out")}
	if a.out.varName != "" {
		a.terminate = false
	}
	if t, ok := e.Attr("terminate"); ok {
		switch t.Value {
		case "true":
			a.terminate = true
		case "false":
			a.terminate = false
		default:
			c.errf(f, t.Line, t.Col, diag.BadAttribute, "terminate=%q: want true or false", t.Value)
		}
	}
	r := &run{p: c.p, dir: f.dir}
	dir, err := r.projectFile(d.Value)
	if err != nil {
		c.errf(f, d.Line, d.Col, diag.OutsideProject, "dir=%q: the directory must be inside the project", d.Value)
		return nil
	}
	if st, err := c.p.root.Stat(dir); err != nil || !st.IsDir() {
		c.errf(f, d.Line, d.Col, diag.MissingFile, "dir=%q: no such directory", d.Value)
		return nil
	}
	a.dir = filepath.ToSlash(dir)
	// fallback-doc is relative to the flow; a leading slash means the
	// served directory's root, as in FLAT's "/index.html" example.
	fbPath := fb.Value
	if strings.HasPrefix(fbPath, "/") {
		fbPath = path.Join(filepath.ToSlash(d.Value), fbPath)
	}
	fbName, err := r.projectFile(fbPath)
	if err != nil {
		c.errf(f, fb.Line, fb.Col, diag.OutsideProject, "fallback-doc=%q: the file must be inside the project", fb.Value)
		return nil
	}
	if st, err := c.p.root.Stat(fbName); err != nil || st.IsDir() {
		c.errf(f, fb.Line, fb.Col, diag.MissingFile, "fallback-doc=%q: no such file", fb.Value)
		return nil
	}
	a.fallback = fbName
	return a
}

func (a *serveAction) Run(r *run, s *step) (ctrl, error) {
	rel := path.Clean("/" + r.reqPath) // no ".." can survive Clean of a rooted path
	name := path.Join(a.dir, rel)
	st, err := r.p.root.Stat(filepath.FromSlash(name))
	if err == nil && st.IsDir() {
		if !strings.HasSuffix(r.reqPath, "/") {
			loc := r.reqPath + "/"
			if r.reqQuery != "" {
				loc += "?" + r.reqQuery
			}
			r.x.Resp.Status = http.StatusMovedPermanently
			r.setResponseHeader("Location", loc)
			r.setMain(nil, "")
			return a.end(), nil
		}
		name = path.Join(name, "index.html")
		st, err = r.p.root.Stat(filepath.FromSlash(name))
	}
	status := http.StatusOK
	if err != nil && errors.Is(err, fs.ErrNotExist) || err == nil && st.IsDir() {
		name = a.fallback
		st, err = r.p.root.Stat(filepath.FromSlash(name))
	}
	var body []byte
	if err == nil && st.Mode().IsRegular() && st.Size() <= serveMaxBytes {
		body, err = readAllFile(r, name)
	} else if err == nil {
		err = fs.ErrPermission
	}
	if err != nil {
		r.p.logger().Warn(`Action "serve": file not readable`, "requestID", r.x.ID, "at", s.At.String(), "file", name)
		r.x.Resp.Status = http.StatusForbidden
		r.setMain(nil, "")
		return a.end(), nil
	}
	mime := mimeByName(name)
	if a.out.varName != "" {
		a.out.write(r, body, mime)
		return ctrlNext, nil
	}
	r.x.Resp.Status = status
	r.setResponseHeader("Last-Modified", st.ModTime().UTC().Format(http.TimeFormat))
	r.setMain(body, mime)
	return a.end(), nil
}

func (a *serveAction) end() ctrl {
	if a.terminate {
		return ctrlTerminate
	}
	return ctrlNext
}

// readAllFile reads a project file through the root, bounded.
func readAllFile(r *run, name string) ([]byte, error) {
	f, err := r.p.root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, serveMaxBytes))
}
