package tracehub

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// FuzzParseFilter: any TraceRequest is either refused with InvalidArgument
// or gives a filter whose status range and sample are sane, and matching
// with it never panics.
func FuzzParseFilter(f *testing.F) {
	f.Add("shop", "/api", "x-tenant", "t1", "5xx", 0.5)
	f.Add("", "", "", "", "404", 0.0)
	f.Add("", "api", ":path", "/", "6xx", 2.0)
	f.Fuzz(func(t *testing.T, project, prefix, hname, hvalue, st string, sample float64) {
		r := &flowprocv1.TraceRequest{Project: project, PathPrefix: prefix, Status: st, Sample: sample}
		if hname != "" || hvalue != "" {
			r.Headers = []*flowprocv1.Header{{Name: hname, Value: hvalue}}
		}
		flt, err := parseFilter(r, nil)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "trace filter") {
				t.Fatalf("error %v is not a clear InvalidArgument", err)
			}
			return
		}
		if !(flt.sample > 0 && flt.sample <= 1) || flt.statusLo > flt.statusHi || flt.statusLo != 0 && (flt.statusLo < 100 || flt.statusHi > 599) {
			t.Fatalf("accepted a bad filter %+v", flt)
		}
		req := &flowengine.Request{Path: prefix + "/x", Headers: []flowengine.Header{{Name: hname, Value: hvalue}}}
		_ = flt.selects(project, req)
		_ = flt.keeps(200)
	})
}
