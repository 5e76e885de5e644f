package extproc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// TestReplyStoreMatchesAllocated builds every reply kind from a store and
// without one: the messages are equal, also when a mutation overflows the
// store's inline options and value bytes, and each store block is free
// again once its reply is sent.
func TestReplyStoreMatchesAllocated(t *testing.T) {
	long := strings.Repeat("v", inlineRaw+1)
	muts := map[string]*flowengine.Mutation{
		"none":  {},
		"small": {Path: "/v2/x", SetHeaders: []flowengine.Header{{Name: "X-A", Value: "1"}}, RemoveHeaders: []string{"Cookie"}},
		"many":  {SetHeaders: headersN(inlineOptions + 2)},
		"long":  {SetHeaders: []flowengine.Header{{Name: "x-long", Value: long}}},
	}
	for name, f := range muts {
		t.Run(name, func(t *testing.T) {
			s := new(replyStore)
			o := &flowengine.Outcome{Mutation: *f}
			build := []struct {
				kind string
				make func(s *replyStore) *extprocv3.ProcessingResponse
			}{
				{"request headers", func(s *replyStore) *extprocv3.ProcessingResponse {
					return s.continueHeaders(false, s.requestMutation(f, false, "", false), true, nil)
				}},
				{"response headers", func(s *replyStore) *extprocv3.ProcessingResponse {
					return s.continueHeaders(true, s.responseMutation(o, false), false, nil)
				}},
				{"replaced in headers", func(s *replyStore) *extprocv3.ProcessingResponse {
					return s.headersReply(false, replaceInHeaders(s.requestMutation(f, true, "", false), []byte("new"), true, false), nil)
				}},
				{"body", func(s *replyStore) *extprocv3.ProcessingResponse {
					return s.bodyReply(true, &extprocv3.CommonResponse{HeaderMutation: withContentLength(s.responseMutation(o, true), 3), BodyMutation: bodyReplacement([]byte("new"))})
				}},
				{"immediate", func(s *replyStore) *extprocv3.ProcessingResponse {
					return s.immediateReply(403, f.SetHeaders, nil, []byte("no"), "flowproc")
				}},
			}
			for round := range 2 { // the second round reuses the freed blocks
				for _, b := range build {
					got, want := b.make(s), b.make(noStore)
					if !proto.Equal(got, want) {
						t.Fatalf("round %d, %s: got  %v\nwant %v", round, b.kind, got, want)
					}
					s.sent(got)
					if !s.free() {
						t.Fatalf("round %d, %s: blocks still handed out after the reply was sent", round, b.kind)
					}
				}
			}
		})
	}
}

func headersN(n int) []flowengine.Header {
	hs := make([]flowengine.Header, n)
	for i := range hs {
		hs[i] = flowengine.Header{Name: fmt.Sprintf("x-h%d", i), Value: fmt.Sprintf("value %d", i)}
	}
	return hs
}

// TestReplyStoreHeldBlocks: a mutation handed out and not yet sent is
// never handed out again, and sending an unrelated reply does not free it.
func TestReplyStoreHeldBlocks(t *testing.T) {
	s := new(replyStore)
	first := s.requestMutation(&flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-first", Value: "1"}}}, false, "", false)
	want := proto.Clone(first)
	second := s.requestMutation(&flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-second", Value: "2"}}}, false, "", false)
	if first == second {
		t.Fatal("a held mutation was handed out twice")
	}
	other := s.continueHeaders(true, second, false, nil)
	s.sent(other)
	s.sent(s.bodyReply(false, nil))
	if !proto.Equal(first, want) {
		t.Fatalf("held mutation changed: %v, want %v", first, want)
	}
	if s.free() {
		t.Fatal("the held mutation was freed by replies that do not carry it")
	}
	s.sent(s.continueHeaders(false, first, false, nil))
	if !s.free() {
		t.Fatal("the mutation was not freed once its reply was sent")
	}
}

// TestReplyStoreAllocations: with a store, a proxied exchange's two
// replies (request mutation, response mutation) allocate nothing once the
// store is warm.
func TestReplyStoreAllocations(t *testing.T) {
	f := &flowengine.Mutation{
		Path:          "/v2/items",
		SetHeaders:    []flowengine.Header{{Name: "x-user", Value: "alice"}, {Name: "X-Flowproc", Value: "1"}},
		RemoveHeaders: []string{"cookie"},
	}
	o := &flowengine.Outcome{Mutation: flowengine.Mutation{Status: 203, SetHeaders: []flowengine.Header{{Name: "x-upstream-status", Value: "200"}}}}
	s := new(replyStore)
	if n := testing.AllocsPerRun(100, func() {
		s.sent(s.continueHeaders(false, s.requestMutation(f, false, "", false), false, nil))
		s.sent(s.continueHeaders(true, s.responseMutation(o, false), false, nil))
	}); n != 0 {
		t.Errorf("two replies from a store: %.0f allocations, want 0", n)
	}
}

// TestReplyStoreConcurrentExchanges runs exchanges concurrently, each
// with its own header value echoed into request and response mutations
// and a 403 answer for every third: each reply carries its own exchange's
// values, never another's from a reused store.
func TestReplyStoreConcurrentExchanges(t *testing.T) {
	ts := newTestServer(t, one(runnerFunc(func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		var id string
		for _, hd := range req.Headers {
			if hd.Name == "x-id" {
				id = hd.Value
			}
		}
		if strings.HasSuffix(id, "-0") {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 403, SetHeaders: []flowengine.Header{{Name: "x-echo", Value: id}}}}
		}
		if _, err := h.Forward(ctx, &flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-echo", Value: id}, {Name: "x-more", Value: strings.Repeat(id, 3)}}}); err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-echo", Value: id + "-resp"}}}}
	})), 1<<20)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 30 {
				id := fmt.Sprintf("w%d-%d-%d", w, i, i%3)
				res, err := extproctest.Exchange(context.Background(), ts.conn, &extproctest.Request{Headers: []flowengine.Header{{Name: "x-id", Value: id}}}, nil)
				if err != nil {
					errs <- err
					return
				}
				if err := checkEcho(res, id); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkEcho checks that every x-echo header in res carries id.
func checkEcho(res *extproctest.Result, id string) error {
	seen := 0
	for _, r := range res.Replies {
		hm := mutationOf(r)
		for _, o := range hm.GetSetHeaders() {
			k, v := o.GetHeader().GetKey(), string(o.GetHeader().GetRawValue())
			switch {
			case k == "x-echo" && v != id && v != id+"-resp",
				k == "x-more" && v != strings.Repeat(id, 3):
				return fmt.Errorf("exchange %s got %s: %s", id, k, v)
			case k == "x-echo":
				seen++
			}
		}
	}
	want := 2
	if strings.HasSuffix(id, "-0") {
		want = 1
	}
	if seen != want {
		return fmt.Errorf("exchange %s: %d x-echo headers in its replies, want %d", id, seen, want)
	}
	return nil
}

// TestReplyStoreOffWithGRPCTracing: with grpc.EnableTracing, which keeps
// sent messages for /debug/requests, an exchange builds every reply fresh.
func TestReplyStoreOffWithGRPCTracing(t *testing.T) {
	defer func(v bool) { grpc.EnableTracing = v }(grpc.EnableTracing)
	grpc.EnableTracing = true
	x := &exchange{}
	if x.store() != nil {
		t.Fatal("a reply store is used while grpc.EnableTracing keeps sent messages")
	}
	grpc.EnableTracing = false
	if x.store() == nil {
		t.Fatal("no reply store without grpc tracing")
	}
}

// TestStoreReturnedAfterSend: an exchange gives its reply store back once
// nothing built in it waits to be sent (a proxied exchange then holds none
// while it waits for the upstream), and keeps it while a reply built
// earlier is still held.
func TestStoreReturnedAfterSend(t *testing.T) {
	if grpc.EnableTracing {
		t.Skip("grpc.EnableTracing turns the stores off")
	}
	x := &exchange{s: &Server{}, stream: &fakeStream{ctx: context.Background()}, rc: new(runCtx)}
	held := x.store().requestMutation(&flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-held", Value: "1"}}}, false, "", false)
	if err := x.send(x.store().bodyReply(false, nil)); err != nil {
		t.Fatal(err)
	}
	if x.replies == nil {
		t.Fatal("the store went back to the pool while a mutation built in it was held")
	}
	if err := x.send(x.store().continueHeaders(false, held, false, nil)); err != nil {
		t.Fatal(err)
	}
	if x.replies != nil {
		t.Fatal("the store was kept after its last reply was sent")
	}
	// The next reply takes a store again.
	if err := x.send(x.store().continueHeaders(true, nil, false, nil)); err != nil || x.replies != nil {
		t.Fatalf("second reply: %v, store kept %v", err, x.replies != nil)
	}
	if got := x.stream.(*fakeStream).sent; got != 3 {
		t.Fatalf("%d replies sent, want 3", got)
	}
}
