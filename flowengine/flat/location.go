package flat

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// location is an in= or out= attribute of the actions that move data
// (copy, regex, nameshave): the main content (fit://request/content, the
// default), a $variable, another FLAT location or a file. A literal file
// is read once at load; a {dynamic} location is resolved per request.
type location struct {
	v       value
	varName string // $name, when the literal is a variable
	main    bool   // fit://request/content (or no attribute)
	file    *fileData
}

// fileData is a project file read at load.
type fileData struct {
	body []byte
	mime string
}

// location compiles the attribute name of e as a location.
func (c *compiler) location(f *Flow, e *xmlsrc.Element, name string) location {
	a, ok := e.Attr(name)
	if !ok || a.Value == "fit://request/content" || a.Value == "" {
		return location{main: true}
	}
	l := location{v: c.value(f, a)}
	if l.v.dyn != nil {
		return l
	}
	lit := a.Value
	switch {
	case strings.HasPrefix(lit, "$"):
		if !varName.MatchString(lit) {
			c.errf(f, a.Line, a.Col, diag.BadVariable, "%s=%q: not a variable name", name, lit)
		}
		l.varName = lit[1:]
	case name == "out":
		c.errf(f, a.Line, a.Col, diag.BadAttribute, "out=%q: want a variable like $name or fit://request/content", lit)
	case strings.HasPrefix(lit, "fit://request/"):
	default:
		// A file: read it now so a request never reads it again. A
		// missing file is FLAT's run-time warning, not a load error.
		r := &run{p: c.p, dir: f.dir}
		if body, mime, err := r.readLocation(lit); err == nil {
			l.file = &fileData{body: body, mime: mime}
		} else if strings.Contains(err.Error(), errOutside.Error()) {
			c.errf(f, a.Line, a.Col, diag.OutsideProject, "%s=%q: %v", name, lit, errOutside)
		}
	}
	return l
}

// read returns the data at the location: a variable's value as it is, or
// the bytes and media type of anything else. ok is false when the location
// holds nothing.
func (l location) read(r *run) (val expr.Value, body []byte, mime string, ok bool, err error) {
	switch {
	case l.main:
		b, mt, has := r.ContentBody("")
		return nil, b, mt, has, nil
	case l.varName != "":
		v, has := r.Var(l.varName)
		return v, nil, "", has, nil
	case l.file != nil:
		return nil, l.file.body, l.file.mime, true, nil
	}
	loc, err := l.v.eval(r)
	if err != nil {
		return nil, nil, "", false, err
	}
	if loc == "" || loc == "fit://request/content" {
		b, mt, has := r.ContentBody("")
		return nil, b, mt, has, nil
	}
	if strings.HasPrefix(loc, "$") && varName.MatchString(loc) && loc != "$body" {
		v, has := r.Var(loc[1:])
		return v, nil, "", has, nil
	}
	b, mt, err := r.readLocation(loc)
	if err != nil {
		return nil, nil, "", false, nil // FLAT: a missing input is a warning
	}
	return nil, b, mt, true, nil
}

// text returns the location's data as text (a DOM is serialised).
func (l location) text(r *run) (string, string, bool, error) {
	v, b, mt, ok, err := l.read(r)
	if err != nil || !ok {
		return "", "", ok, err
	}
	if v != nil {
		b, mt = renderValue(v)
	}
	return string(b), mt, true, nil
}

// write stores data at an out location: a variable gets JSON as a typed
// value and anything else as a string; the main content gets the bytes.
func (l location) write(r *run, body []byte, mime string) {
	if l.varName == "" {
		r.setMain(body, mime)
		return
	}
	if isJSONType(mime) {
		if doc, err := r.slab.Parse(body, r.p.opts.maxDepth()); err == nil {
			r.setVar(l.varName, expr.NodeSet{doc.FirstElement()})
			return
		}
	}
	r.setVar(l.varName, string(body))
}
