package flat

import (
	"fmt"
	"strconv"

	"golang.org/x/net/http/httpguts"

	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

func init() {
	registerAction("set-response-headers", &actionSpec{attrs: []string{"in", "src", "status"}, compile: compileSetHeaders})
	registerAction("log", &actionSpec{attrs: []string{"in", "src"}, compile: compileLog})
}

// setHeadersAction is <set-response-headers in src status>{…}</…>.
type setHeadersAction struct {
	t      *tmpl
	in     input
	status value
	keys   headerKeys // the names the template always writes
}

func compileSetHeaders(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &setHeadersAction{in: c.input(f, e), t: c.template(f, e, true)}
	if s, ok := e.Attr("status"); ok {
		a.status = c.statusValue(f, s)
	}
	if a.t == nil {
		return nil
	}
	a.keys = newHeaderKeys(a.t.t.ObjectKeys())
	return a
}

func (a *setHeadersAction) Run(r *run, s *step) (ctrl, error) {
	fs, ms, err := r.renderMembers(a.t, a.in, "set-response-headers", s, true)
	if err != nil {
		return ctrlNext, err
	}
	// A record's fields (every value a scalar, the usual object): no tree
	// was built for them.
	for i, f := range fs {
		v, ok := f.Text, f.Type != oxn.Null
		if err := a.set(r, s, a.keys.at(i, f.Key), f.Key, v, ok); err != nil {
			return ctrlNext, err
		}
	}
	for i, m := range ms {
		k := a.keys.at(i, m.key)
		if m.typ() == oxn.Array && !k.status {
			if !k.valid {
				return ctrlNext, a.invalidName(s, m.key)
			}
			// The first value replaces, the others are added (set-cookie).
			first := true
			t := m.t
			for it := t.FirstChild(m.i); it != oxn.NoIndex; it = t.Next(it) {
				v, ok := member{t: t, i: it}.scalar()
				if !ok {
					continue
				}
				if err := checkHeaderValue(v); err != nil {
					return ctrlNext, fmt.Errorf("%s:%d: set-response-headers: %q: %w", s.At.File, s.At.Line, m.key, err)
				}
				if first {
					r.setResponseHeader(k.lower, v)
					first = false
				} else {
					r.x.AddResponseHeader(k.lower, v)
				}
			}
			continue
		}
		v, ok := m.scalar()
		if err := a.set(r, s, k, m.key, v, ok); err != nil {
			return ctrlNext, err
		}
	}
	if !a.status.empty() {
		if err := r.applyStatus(a.status); err != nil {
			return ctrlNext, err
		}
	}
	return ctrlNext, nil
}

// set applies one member that is not an array: key k (name as written)
// with the scalar text v, ok false for null, an object or an array. The
// status key sets the response status (500 unless v is one); null and
// objects set nothing.
func (a *setHeadersAction) set(r *run, s *step, k headerKey, name, v string, ok bool) error {
	if k.status {
		if n, err := strconv.Atoi(v); ok && err == nil && n >= 100 && n <= 599 {
			r.x.Resp.Status = n
		} else {
			r.x.Resp.Status = 500
		}
		return nil
	}
	if !k.valid {
		return a.invalidName(s, name)
	}
	if !ok {
		return nil // null and objects set nothing
	}
	if err := checkHeaderValue(v); err != nil {
		return fmt.Errorf("%s:%d: set-response-headers: %q: %w", s.At.File, s.At.Line, name, err)
	}
	r.setResponseHeader(k.lower, v)
	return nil
}

// invalidName is the error for a member whose key is not a header name.
func (a *setHeadersAction) invalidName(s *step, name string) error {
	return fmt.Errorf("%s:%d: set-response-headers: invalid header name %q", s.At.File, s.At.Line, name)
}

// validHeaderName reports whether s is an RFC 7230 token (httpguts'
// table lookup; a scan of the token punctuation per '-' cost more).
func validHeaderName(s string) bool { return httpguts.ValidHeaderFieldName(s) }

// checkHeaderValue rejects values Envoy would refuse (NUL, CR, LF).
func checkHeaderValue(v string) error {
	// A byte loop: strings.ContainsAny builds a byte set per call, which
	// cost several times this on the short values headers carry.
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= '\r' && (c == 0 || c == '\r' || c == '\n') {
			return fmt.Errorf("header value contains NUL, CR or LF")
		}
	}
	return nil
}

// logAction is <log>{…}</log>: custom fields for the access log.
type logAction struct {
	t  *tmpl
	in input
	// quiet: running the action can have no effect but its fields (see
	// quietLog), so a run whose fields nobody reads skips it.
	quiet bool
}

func compileLog(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &logAction{in: c.input(f, e), t: c.template(f, e, true)}
	if a.t == nil {
		return nil
	}
	a.quiet = quietLog(a.t.t, a.in)
	return a
}

// quietLog reports whether a <log> of t with input in can do nothing but
// set its fields: t always writes an object of the same keys, none of them
// a system field (whose override is warned about), every value is a plain
// read of a variable (template.Template.PlainReads: no function, no
// context path), and reading the input cannot fail (a side call's content
// can). Such an action cannot fail, except by running out of the run's
// budget, or by a value nesting deeper than 512 levels.
func quietLog(t *template.Template, in input) bool {
	if in.kind == inContent || !t.HasShape() || !t.PlainReads() {
		return false
	}
	for _, k := range t.ObjectKeys() {
		if systemLogField(k) {
			return false
		}
	}
	return true
}

// logRead reports whether anything can read the fields of r's <log>
// actions: the access-log record (written when the host logs at info), a
// trace of the exchange, or get-log() anywhere in the project.
func (r *run) logRead() bool {
	return r.x.Req.AccessLog || r.x.Trace != nil || r.p.getLog
}

// systemLogField reports whether k is a field of the access record that
// <log> cannot override.
func systemLogField(k string) bool {
	switch k {
	case "timestamp", "type", "requestID":
		return true
	}
	return false
}

func (a *logAction) Run(r *run, s *step) (ctrl, error) {
	if a.quiet && !r.logRead() {
		// Nothing would see the fields, and rendering them could have
		// no other effect (quietLog).
		return ctrlNext, nil
	}
	ms, err := r.renderObject(a.t, a.in, "log", s)
	if err != nil {
		return ctrlNext, err
	}
	system := false
	for _, m := range ms {
		if systemLogField(m.key) {
			system = true
			r.p.logger().Warn("log: system field cannot be overridden", "field", m.key, "requestID", r.x.ID)
		}
	}
	if r.logFields == nil {
		// In the object scratch a recycled run keeps (Recycle clears it).
		o := r.slab.objects()
		o.log = orderedMap{entries: o.log.entries[:0]}
		r.logFields = &o.log
	}
	r.logFields.merge(ms)
	if system {
		// Only this merge can have brought one: earlier ones were removed.
		for _, m := range ms {
			if systemLogField(m.key) {
				r.logFields.del(m.key)
			}
		}
	}
	return ctrlNext, nil
}
