package extproc

import (
	"context"
	"io"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/internal/tracehub"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// slowReplyStream is a fakeStream whose final reply (an ImmediateResponse
// or the response-headers reply) takes sendDelay to send, and whose end of
// stream comes eofDelay after the script ran out (Envoy closing the stream
// late, after the client's download).
type slowReplyStream struct {
	fakeStream
	sendDelay, eofDelay time.Duration
}

func (s *slowReplyStream) Send(r *extprocv3.ProcessingResponse) error {
	if r.GetImmediateResponse() != nil || r.GetResponseHeaders() != nil {
		time.Sleep(s.sendDelay)
	}
	return s.fakeStream.Send(r)
}

func (s *slowReplyStream) Recv() (*extprocv3.ProcessingRequest, error) {
	m, err := s.fakeStream.Recv()
	if err == io.EOF {
		time.Sleep(s.eofDelay)
	}
	return m, err
}

// TestTraceDurationCoversLastReply: a trace's durationUs runs until the
// exchange's last reply has been sent (a slow final Send is inside it),
// for answered and forwarded exchanges, and stops there (Envoy closing the
// stream much later is outside it). The status is the one the client got.
func TestTraceDurationCoversLastReply(t *testing.T) {
	const sendDelay, eofDelay = 40 * time.Millisecond, 2 * time.Second
	answer := runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 201, Body: []byte("hi")}}
	})
	for _, tc := range []struct {
		name   string
		run    runnerFunc
		script []*extprocv3.ProcessingRequest
		status uint32
	}{
		{"answered", answer, benchScript()[:1], 201},
		{"forwarded", benchRunners[1].run, benchScript(), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tracehub.New(tracehub.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			s := New(Options{Resolver: one(tc.run), Tracing: h, StreamWaitTimeout: -1})
			st := &slowReplyStream{fakeStream: fakeStream{ctx: metadata.NewIncomingContext(context.Background(), metadata.MD{}), script: tc.script},
				sendDelay: sendDelay, eofDelay: eofDelay}
			done := make(chan error, 1)
			go func() { done <- s.Process(st) }()
			var tr *flowprocv1.ExchangeTrace
			select {
			case tr = <-sess.C:
			case <-time.After(eofDelay):
				t.Fatal("no trace before Envoy closed the stream: the trace waits for the drain")
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(tr.GetDurationUs()) * time.Microsecond; got < sendDelay || got >= eofDelay {
				t.Errorf("durationUs = %v, want from %v (the last reply's send) to below %v (the stream's end)", got, sendDelay, eofDelay)
			}
			if tr.GetStatus() != tc.status {
				t.Errorf("status = %d, want %d", tr.GetStatus(), tc.status)
			}
		})
	}
}

// TestTraceStatusIsTheClients: when the server replaces the run's answer
// (here: a reply too large for the proxy becomes a 500), the trace shows
// the status the client got.
func TestTraceStatusIsTheClients(t *testing.T) {
	h, err := tracehub.New(tracehub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	big := runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: make([]byte, 64<<10)}}
	})
	s := New(Options{Resolver: one(big), Tracing: h, StreamWaitTimeout: -1, MaxReplyBytes: 16 << 10})
	st := &fakeStream{ctx: metadata.NewIncomingContext(context.Background(), metadata.MD{}), script: benchScript()[:1]}
	if err := s.Process(st); err != nil {
		t.Fatal(err)
	}
	tr := <-sess.C
	if tr.GetStatus() != 500 || tr.GetOutcome() != "answer" {
		t.Errorf("trace status %d outcome %q, want 500 (what the client got) for the flow's answer", tr.GetStatus(), tr.GetOutcome())
	}
}
