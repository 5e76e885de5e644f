package flat

import (
	"html"
	"strconv"
	"strings"
)

// noFlow answers a request no flow handles: a defined path with neither
// x-flat-flow nor x-flat-proxy (and no fallback), or a request outside the
// base path when there is no conf/flow.xml. FLAT answers
// "<requestID>: No flow found for GET /" (flat-docs tutorial/README.md),
// as plain text, or as an HTML error page when the client accepts HTML
// (FLAT docs: project layout and request lifecycle). The documentation shows no status; flowproc
// sends 404, the status of a resource the server has nothing for.
func (r *run) noFlow() {
	msg := r.x.ID + ": No flow found for " + r.x.Req.Method + " " + r.reqPath
	r.x.Resp.Status = 404
	if acceptsHTML(r.header("accept")) {
		r.setMain([]byte("<!DOCTYPE html>\n<html><head><title>FLAT Error</title></head><body><h1>FLAT Error</h1><p>"+
			html.EscapeString(msg)+"</p></body></html>\n"), "text/html; charset=utf-8")
		return
	}
	r.setMain([]byte(msg+"\n"), "text/plain; charset=utf-8")
}

// acceptsHTML reports whether an Accept header lists text/html (as
// browsers send it) with a quality above zero.
func acceptsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
