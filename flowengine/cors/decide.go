package cors

import (
	"net/http"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// Decide returns the CORS decision for request r, routed to m by
// apidef.Definition.Match. It never fails; a nil Policy decides nothing.
func (p *Policy) Decide(r Request, m apidef.Match) Decision {
	if p == nil {
		return Decision{}
	}
	switch {
	case r.Method == http.MethodOptions && m.Kind == apidef.Outside:
		return Decision{Answer: true, Status: http.StatusMethodNotAllowed, Headers: p.Headers(r.Origin)}
	case r.Method == http.MethodOptions && r.Origin != "" && m.Path != nil && (r.RequestMethod != "" || !hasOp(m.Path, http.MethodOptions)):
		return Decision{Answer: true, Status: http.StatusOK, Headers: p.preflight(r, m.Path)}
	}
	return Decision{Headers: p.Headers(r.Origin)}
}

// Headers returns the headers of a non-preflight response to a request
// with the given Origin ("" when absent): Allow-Origin and
// Allow-Credentials for an allowed origin, and always "Vary: Origin".
func (p *Policy) Headers(origin string) []Header {
	if p == nil {
		return nil
	}
	h := make([]Header, 0, 3)
	if p.allowed(origin) {
		h = append(h, Header{AllowOrigin, origin})
		if p.credentials {
			h = append(h, Header{AllowCredentials, "true"})
		}
	}
	return append(h, Header{Vary, "Origin"})
}

// preflight returns the headers of a preflight answer for path.
func (p *Policy) preflight(r Request, path *apidef.Path) []Header {
	h := make([]Header, 0, 4)
	if p.allowed(r.Origin) {
		h = append(h, Header{AllowOrigin, r.Origin})
	}
	if p.credentials {
		h = append(h, Header{AllowCredentials, "true"})
	}
	h = append(h, Header{AllowMethods, methods(path)})
	if rh := strings.TrimSpace(r.RequestHeaders); rh != "" {
		h = append(h, Header{AllowHeaders, rh})
	}
	return h
}

// allowed reports whether origin may use the API.
func (p *Policy) allowed(origin string) bool {
	if origin == "" {
		return false
	}
	o := strings.ToLower(origin)
	if p.anyOrigin && o != "null" {
		return true
	}
	for _, a := range p.origins {
		if a == o {
			return true
		}
	}
	return false
}

func methods(path *apidef.Path) string {
	if len(path.Ops) == 0 {
		return AllMethods
	}
	var b strings.Builder
	for i, op := range path.Ops {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(op.Method)
	}
	return b.String()
}

func hasOp(path *apidef.Path, method string) bool {
	for _, op := range path.Ops {
		if op.Method == method {
			return true
		}
	}
	return false
}
