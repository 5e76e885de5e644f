package engine

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
	"github.com/flowproc/flowproc/internal/lowername"
)

func httpReason(code int) string { return http.StatusText(code) }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// outcome turns the response message into the run's outcome: the changes
// to the upstream's response when the request went upstream, the whole
// answer otherwise.
func (r *Run) outcome(errCode string) *flowengine.Outcome {
	x := &r.x
	m := r.Response
	if m == nil {
		m = NewResponse()
	}
	ct, _ := m.HeaderLine("content-type")
	if x.Forwarded && x.Upstream != nil && m == &r.rsp {
		// The target's response, possibly changed.
		if m.statusSet && m.Status != x.Upstream.Status {
			x.Resp.Status = m.Status
		}
		if m.headersSet {
			x.Resp.Headers, x.Resp.Removed = headerDiff(x.Upstream.Headers, m.Headers, x.Resp.Headers, x.Resp.Removed)
		}
		if m.contentSet {
			x.Resp.Body, x.Resp.BodySet = m.content, true
		}
	} else {
		status := m.Status
		if status == 0 {
			status = 200
		}
		x.Resp.Status = status
		for _, h := range m.Headers {
			ln := lowername.Lower(h.Name)
			if ln == "content-type" || ln == "content-length" || ln == "transfer-encoding" || ln == "host" || strings.HasPrefix(ln, ":") {
				continue
			}
			x.Resp.Added = append(x.Resp.Added, flowengine.Header{Name: ln, Value: h.Value})
		}
		body, _ := m.Content()
		if x.Forwarded && x.Upstream != nil {
			// A new response replaces the upstream's: drop its headers.
			for _, h := range x.Upstream.Headers {
				ln := lowername.Lower(h.Name)
				if !containsFold(m.Headers, ln) && !contains(x.Resp.Removed, ln) {
					x.Resp.Removed = append(x.Resp.Removed, ln)
				}
			}
			if x.Resp.Status == x.Upstream.Status {
				x.Resp.Status = 0
			}
			x.Resp.Body, x.Resp.ContentType, x.Resp.BodySet = body, ct, true
		} else {
			x.Resp.Body, x.Resp.ContentType, x.Resp.BodySet = body, ct, true
		}
	}
	return x.Outcome(r.p.name, r.flowLabel(), errCode)
}

func (r *Run) flowLabel() string { return r.flowLbl }

func containsFold(hs []flowengine.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var _ runtime.State = (*Run)(nil)
