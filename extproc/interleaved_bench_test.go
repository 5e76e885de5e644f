package extproc

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/flowengine/flat"
)

// chanStream is an ext_proc stream whose messages arrive on a channel, as
// grpc-go's reader goroutine hands them to a handler blocked in Recv, and
// whose replies are marshalled by the server's codec and handed on, as
// Send hands them to the writer.
type chanStream struct {
	fakeStream
	in    chan *extprocv3.ProcessingRequest // closed: the end of the stream
	out   chan struct{}
	codec vtCodec
}

func (s *chanStream) Recv() (*extprocv3.ProcessingRequest, error) {
	m, ok := <-s.in
	if !ok {
		return nil, io.EOF
	}
	return m, nil
}

func (s *chanStream) Send(r *extprocv3.ProcessingResponse) error {
	b, err := s.codec.Marshal(r)
	if err != nil {
		return err
	}
	b.Free()
	s.out <- struct{}{}
	return nil
}

// newChanStream returns a stream on a context like the server's tap
// makes, ready for one exchange.
func newChanStream(ctx context.Context) *chanStream {
	return &chanStream{fakeStream: fakeStream{ctx: grpcStreamContext(ctx)},
		in: make(chan *extprocv3.ProcessingRequest, 1), out: make(chan struct{}, 1), codec: newVTCodec()}
}

// BenchmarkProcessInterleaved drives 32 exchanges at a time, as the load
// generator's 32 workers do: each stream's handler runs on a worker
// goroutine of its own and blocks in Recv, and one driver goroutine hands
// every stream its request headers, takes the replies, then the response
// headers, then ends the streams. The handlers' steps interleave as they
// do on a real server, where each exchange's state and the code of its
// step have gone cold by the time its next message arrives.
func BenchmarkProcessInterleaved(b *testing.B) {
	const inFlight = 32
	eachHandler(b, inFlight, func(b *testing.B, h handlerRun) {
		streams := make([]*chanStream, inFlight)
		for n := 0; n < b.N; n += inFlight {
			batch := min(inFlight, b.N-n)
			h.wg.Add(batch)
			for i := range batch {
				streams[i] = newChanStream(h.ctx)
				h.jobs <- streams[i]
			}
			for _, m := range h.msgs {
				for _, st := range streams[:batch] {
					st.in <- m
				}
				for _, st := range streams[:batch] {
					<-st.out
				}
			}
			for _, st := range streams[:batch] {
				close(st.in)
			}
			h.wg.Wait()
		}
	})
}

// handlerRun is what a chanStream benchmark drives for one handler: the
// streams' context, the exchange's messages, and the handler goroutines'
// queue of streams with the group that counts their ended exchanges.
type handlerRun struct {
	ctx  context.Context
	msgs []*extprocv3.ProcessingRequest
	jobs chan<- *chanStream
	wg   *sync.WaitGroup
}

// eachHandler runs drive as a sub-benchmark for each of benchHandlers,
// with workers goroutines running the handler on every stream drive sends
// to jobs, each calling wg.Done when its exchange has ended.
func eachHandler(b *testing.B, workers int, drive func(b *testing.B, h handlerRun)) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	for _, h := range benchHandlers(b) {
		msgs := scriptFor(h.path)
		process := h.process
		b.Run(h.name, func(b *testing.B) {
			var wg sync.WaitGroup
			jobs := make(chan *chanStream)
			defer close(jobs)
			for range workers {
				go func() {
					for st := range jobs {
						if err := process(st); err != nil {
							b.Error(err)
						}
						wg.Done()
					}
				}()
			}
			drive(b, handlerRun{ctx: ctx, msgs: msgs, jobs: jobs, wg: &wg})
		})
	}
}

// benchHandler is a server the chanStream benchmarks drive: the no-op
// handler or flowproc serving a project, and the path of the exchanges.
type benchHandler struct {
	name, path string
	process    func(st *chanStream) error
}

// benchHandlers are the servers of BenchmarkProcessInterleaved and
// BenchmarkProcessCold: the no-op, a minimal proxy, the FLAT example's
// proxied route (also with flowproc serve's message timeouts, which arm
// the override_message_timeout watchdog on every message) and the Apigee
// bundle's.
func benchHandlers(b *testing.B) []benchHandler {
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	flatPath := "/api/upstream/items/42?expand=1"
	cases := []struct {
		name, dir, path string
		apigee          bool
		watchdog        bool
	}{
		{"noop", "", flatPath, false, false},
		{"minimal", "testdata/minproxy", flatPath, false, false},
		{"hello-proxied", "../examples/hello", flatPath, false, false},
		{"hello-proxied-watchdog", "../examples/hello", flatPath, false, true},
		{"apigee-proxied", "../examples/apigee-hello", "/v1/orders/42", true, false},
	}
	var hs []benchHandler
	for _, c := range cases {
		h := benchHandler{name: c.name, path: c.path, process: func(st *chanStream) error { noopChanHandler(st); return nil }}
		opts := Options{Logger: logger}
		if c.watchdog {
			opts.MessageTimeout, opts.MaxMessageTimeout, opts.OverrideAfter = time.Second, 10*time.Second, 0.5
		}
		switch {
		case c.apigee:
			opts.Resolver = loadProjectSet(b, c.dir)
		case c.dir != "":
			p, errs := flat.Load(c.dir, flat.Options{Env: []string{}})
			if p == nil {
				b.Fatal(errs)
			}
			opts.Resolver = one(runnerFunc(p.Run))
		}
		if opts.Resolver != nil {
			s := New(opts)
			h.process = func(st *chanStream) error { return s.Process(st) }
		}
		hs = append(hs, h)
	}
	return hs
}

// noopChanHandler is noopHandler on a chanStream: the no-op server's reply
// to each message until the stream ends.
func noopChanHandler(st *chanStream) {
	for {
		m, err := st.Recv()
		if err != nil {
			return
		}
		r := noopResponseReply
		if m.GetRequestHeaders() != nil {
			r = noopRequestReply
		}
		if st.Send(r) != nil {
			return
		}
	}
}
