package tracehub

import (
	"math"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// filter is a checked TraceRequest.
type filter struct {
	project string
	prefix  string
	headers []flowengine.Header // names lower-case
	// status: exact code (statusLo == statusHi) or a class [N00, N99];
	// 0 = any.
	statusLo, statusHi int
	sample             float64
}

// parseFilter checks a TraceRequest. Every malformed filter is an
// InvalidArgument error that says which field is wrong and what it wants.
// known, when non-nil, lists the project names a project filter must name.
func parseFilter(r *flowprocv1.TraceRequest, known []string) (*filter, error) {
	f := &filter{project: r.GetProject(), prefix: r.GetPathPrefix(), sample: r.GetSample()}
	if f.project != "" && known != nil && !contains(known, f.project) {
		return nil, invalid("project %q is not loaded (projects: %s)", f.project, strings.Join(known, ", "))
	}
	if f.prefix != "" && !strings.HasPrefix(f.prefix, "/") {
		return nil, invalid("path prefix %q must start with /", f.prefix)
	}
	for _, h := range r.GetHeaders() {
		name := strings.ToLower(strings.TrimSpace(h.GetName()))
		if name == "" || strings.ContainsAny(name, " \t\r\n") {
			return nil, invalid("header filter %q: want a header name and a value (name=value)", h.GetName())
		}
		if strings.Contains(name, ":") {
			return nil, invalid("header filter %q: pseudo-headers are not matched; use the path filter", h.GetName())
		}
		f.headers = append(f.headers, flowengine.Header{Name: name, Value: h.GetValue()})
	}
	if s := strings.ToLower(strings.TrimSpace(r.GetStatus())); s != "" {
		lo, hi, ok := parseStatus(s)
		if !ok {
			return nil, invalid("status %q: want a code such as 404 or a class such as 5xx", r.GetStatus())
		}
		f.statusLo, f.statusHi = lo, hi
	}
	switch {
	case math.IsNaN(f.sample) || f.sample < 0 || f.sample > 1:
		return nil, invalid("sample %v: want a rate in (0, 1], e.g. 0.01 for 1 %%", f.sample)
	case f.sample == 0:
		f.sample = 1
	}
	return f, nil
}

// parseStatus parses "404" or "4xx".
func parseStatus(s string) (lo, hi int, ok bool) {
	if len(s) != 3 || s[0] < '1' || s[0] > '5' {
		return 0, 0, false
	}
	if s[1:] == "xx" {
		c := int(s[0]-'0') * 100
		return c, c + 99, true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, 0, false
	}
	return n, n, true
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "trace filter: "+format, args...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// selects reports whether the filter selects an exchange at its start
// (everything but the status, which is known only at the end). It does
// not allocate.
func (f *filter) selects(project string, req *flowengine.Request) bool {
	if f.project != "" && f.project != project {
		return false
	}
	if f.prefix != "" && !strings.HasPrefix(req.Path, f.prefix) {
		return false
	}
	for _, want := range f.headers {
		found := false
		for _, h := range req.Headers {
			if strings.EqualFold(h.Name, want.Name) && h.Value == want.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// keeps reports whether a finished exchange with this status stays in the
// session.
func (f *filter) keeps(status int) bool {
	return f.statusLo == 0 || status >= f.statusLo && status <= f.statusHi
}
