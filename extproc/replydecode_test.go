package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/flowproc/flowproc/envoy/respdecode"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
)

// wireStream is a fakeStream that keeps each reply's wire form, marshalled
// by the server's codec inside Send, as grpc-go does (the reply's blocks
// are reused once Send returns).
type wireStream struct {
	fakeStream
	wire [][]byte
}

func (w *wireStream) Send(r *extprocv3.ProcessingResponse) error {
	bs, err := newVTCodec().Marshal(r)
	if err != nil {
		return err
	}
	w.wire = append(w.wire, bs.Materialize())
	bs.Free()
	return w.fakeStream.Send(r)
}

// TestExampleRepliesDecodeFast: the replies of the examples' routes are in
// the shape the load generator decodes without reflection
// (envoy/respdecode), so flowproc bench charges flowproc's replies what
// Envoy's generated code would, not protobuf-go's reflection.
func TestExampleRepliesDecodeFast(t *testing.T) {
	hello, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if hello == nil {
		t.Fatal(errs)
	}
	proxyHeaders, errs := flat.Load("../examples/proxy-headers", flat.Options{Env: []string{}})
	if proxyHeaders == nil {
		t.Fatal(errs)
	}
	for _, c := range []struct {
		name   string
		runner flowengine.Runner
		path   string
	}{
		{"proxied", hello, "/api/upstream/items/42"},
		{"answered", hello, "/api/hello/world"},
		{"not-found", hello, "/api/nowhere"},
		{"proxy-headers", proxyHeaders, "/api/upstream/items/42"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(Options{Resolver: one(runnerFunc(c.runner.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			st := &wireStream{fakeStream: fakeStream{ctx: grpcStreamContext(metadata.NewIncomingContext(context.Background(), metadata.MD{})), script: scriptFor(c.path)}}
			if err := s.Process(st); err != nil {
				t.Fatal(err)
			}
			if len(st.wire) == 0 {
				t.Fatal("no replies")
			}
			for i, data := range st.wire {
				if !respdecode.Fast(data) {
					m := new(extprocv3.ProcessingResponse)
					_ = respdecode.Unmarshal(data, m)
					t.Errorf("reply %d left the fast path:\n%s", i, prototext.Format(m))
				}
			}
		})
	}
}
