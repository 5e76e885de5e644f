package main

import (
	"context"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/internal/tracehub"
	"github.com/flowproc/flowproc/internal/traceweb"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// DefaultDevAdminAddr is dev's admin listener: metrics, health and the
// trace web page, on loopback.
const DefaultDevAdminAddr = "127.0.0.1:9901"

// TraceUIPath is where the admin listener serves the trace web page.
const TraceUIPath = "/trace/"

// traceUISource feeds the trace web page from the trace hub: each trace in
// its protojson form, the same document `flowproc trace -json` prints.
func traceUISource(h *tracehub.Hub) traceweb.Source {
	return traceweb.SourceFunc(func(ctx context.Context, f traceweb.Filter) (<-chan []byte, error) {
		req := &flowprocv1.TraceRequest{Project: f.Project, PathPrefix: f.PathPrefix, Status: f.Status, Sample: f.Sample}
		if f.HeaderName != "" {
			req.Headers = []*flowprocv1.Header{{Name: f.HeaderName, Value: f.HeaderValue}}
		}
		traces, closeSession, err := h.Subscribe(ctx, req)
		if err != nil {
			if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
				return nil, &traceweb.FilterError{Msg: st.Message()}
			}
			if st, ok := status.FromError(err); ok {
				return nil, &uiError{st.Message()}
			}
			return nil, err
		}
		out := make(chan []byte, 16)
		go func() {
			defer close(out)
			defer closeSession()
			for t := range traces {
				doc, err := traceJSON.Marshal(t)
				if err != nil {
					continue // a trace protojson cannot encode is not one the page could show
				}
				select {
				case out <- doc:
				case <-ctx.Done():
					return
				}
			}
		}()
		return out, nil
	})
}

// uiError is a hub refusal shown to the page without its gRPC wrapping.
type uiError struct{ msg string }

func (e *uiError) Error() string { return e.msg }

// withTraceUI adds the trace web page to an admin handler when the hub
// exists.
func withTraceUI(admin http.Handler, a *apiStack) http.Handler {
	if a == nil || a.hub == nil {
		return admin
	}
	mux := http.NewServeMux()
	mux.Handle(TraceUIPath, traceweb.Handler(TraceUIPath, traceUISource(a.hub)))
	mux.Handle("/", admin)
	return mux
}
