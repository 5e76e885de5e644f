package flat

import (
	"bytes"
	"context"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// FitLog implements expr.RunLog: fit-log() writes a flat_log record.
func (r *run) FitLog(msg string) {
	r.x.TraceMessage(r.flowFile, "fit-log", runtime.Pos{File: r.flowFile}, msg)
	r.p.logger().Info("flat_log", "type", "flat_log", "requestID", r.x.ID, "flow", r.flowFile, "message", msg)
}

// AccessLog implements expr.RunLog: get-log() sees the access-log fields
// known while the flow runs (the standard ones flowproc fills before the
// response: requestID, method, url, flow) and the custom fields of the log
// action, which win.
func (r *run) AccessLog() *dom.Node {
	var b bytes.Buffer
	b.WriteString(`{"requestID":`)
	oxn.WriteString(&b, r.x.ID)
	b.WriteString(`,"method":`)
	oxn.WriteString(&b, r.x.Req.Method)
	b.WriteString(`,"url":`)
	oxn.WriteString(&b, r.x.Req.Path)
	b.WriteString(`,"flow":`)
	oxn.WriteString(&b, r.flowName)
	if r.logFields != nil {
		var cf bytes.Buffer
		r.logFields.write(&cf)
		if inner := bytes.TrimSpace(cf.Bytes()); len(inner) > 2 {
			b.WriteByte(',')
			b.Write(inner[1 : len(inner)-1])
		}
	}
	b.WriteByte('}')
	doc, err := oxn.Parse(b.Bytes(), 512)
	if err != nil {
		return nil
	}
	// Later members win, as in the access log record.
	root := doc.FirstElement()
	seen := map[string]*dom.Node{}
	for c := root.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == dom.ElementNode {
			k := oxn.Key(c)
			if old, ok := seen[k]; ok {
				old.Detach()
			}
			seen[k] = c
		}
		c = next
	}
	root.Detach()
	return root
}

// ReadLocation implements expr.Locations for fit-document().
func (r *run) ReadLocation(loc string) ([]byte, string, error) { return r.readLocation(loc) }

var (
	_ expr.RunLog    = (*run)(nil)
	_ expr.Locations = (*run)(nil)
)

// Warn implements expr.Warner: a function's "log and continue" warning
// (xml-parse of bad input …) goes to the project's log with the request.
func (r *run) Warn(ctx context.Context, fn, msg string) {
	r.p.logger().Warn("flat_alert", "type", "flat_alert", "topic", fn, "requestID", r.x.ID, "flow", r.flowFile, "message", msg)
}

// FitExists implements expr.FitResolver for file-exists() on
// fit://request/… locations.
func (r *run) FitExists(uri string) bool {
	switch {
	case uri == "fit://request/content":
		_, _, ok := r.ContentBody("")
		return ok
	case strings.HasPrefix(uri, "fit://request/content/"):
		_, _, ok := r.ContentBody(strings.TrimPrefix(uri, "fit://request/content/"))
		return ok
	}
	return false
}

var (
	_ expr.Warner      = (*run)(nil)
	_ expr.FitResolver = (*run)(nil)
)
