package extproc

import (
	"sync"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// A store's inline space for the header mutation of one reply: set_headers
// entries and the bytes of their values. A mutation that needs more
// allocates the rest, as without a store.
const (
	inlineOptions = 8
	inlineRaw     = 512
)

// replyStore is the reusable storage of the replies an exchange sends: one
// block of each reply kind and one header mutation with its options and
// value bytes. grpc-go marshals a message inside Send and keeps no
// reference to it (a stats handler must copy what it keeps, grpc-go's
// stats.OutPayload; grpc.EnableTracing, which does keep messages, turns
// the store off: exchange.store), so once Send returns the blocks the reply was built from are
// free for the next reply: a proxied exchange's two replies then allocate
// nothing, where each cost four allocations and about 1.2 KiB.
//
// A block is handed out once and is free again only when the reply built
// from it has been sent (sent); until then a second request for the same
// kind gets a fresh allocation, so a reply built early and sent later is
// never overwritten. A nil *replyStore allocates every block.
//
// An exchange takes a store from a pool when it builds a reply and
// returns it as soon as no block is handed out (exchange.putStore, after
// a Send), or when it closes (exchange.close).
type replyStore struct {
	hdr  headersBlock
	body bodyBlock
	imm  immediateBlock
	mut  mutationBlock
	opts [inlineOptions]option
	raw  [inlineRaw]byte

	hdrUsed, bodyUsed, immUsed, mutUsed bool
}

var replyStores = sync.Pool{New: func() any { return new(replyStore) }}

// headers returns a zero headersBlock.
func (s *replyStore) headers() *headersBlock {
	if s == nil || s.hdrUsed {
		return &headersBlock{}
	}
	s.hdrUsed = true
	return &s.hdr
}

// bodyBlock returns a zero bodyBlock.
func (s *replyStore) bodyBlock() *bodyBlock {
	if s == nil || s.bodyUsed {
		return &bodyBlock{}
	}
	s.bodyUsed = true
	return &s.body
}

// immediate returns a zero immediateBlock.
func (s *replyStore) immediate() *immediateBlock {
	if s == nil || s.immUsed {
		return &immediateBlock{}
	}
	s.immUsed = true
	return &s.imm
}

// mutation returns a zero mutationBlock whose batch holds n options with
// bytes of values, inline when they fit.
func (s *replyStore) mutation(n, bytes int) *mutationBlock {
	if s == nil || s.mutUsed {
		m := &mutationBlock{}
		m.batch.init(n, bytes, nil, nil)
		return m
	}
	s.mutUsed = true
	s.mut.batch.init(n, bytes, s.opts[:], s.raw[:])
	return &s.mut
}

// sent frees the blocks r was built from. It runs after every Send
// attempt, whether or not it succeeded: the reply is not used again.
func (s *replyStore) sent(r *extprocv3.ProcessingResponse) {
	if s == nil || r == nil {
		return
	}
	// The mutation first: freeing the reply's own block zeroes it.
	if s.mutUsed && mutationOf(r) == &s.mut.hm {
		if n := len(s.mut.batch.opts); n > 0 && cap(s.mut.batch.opts) <= inlineOptions {
			clear(s.opts[:n]) // the options were the store's
		}
		s.mut, s.mutUsed = mutationBlock{}, false
	}
	switch r {
	case &s.hdr.pr:
		s.hdr, s.hdrUsed = headersBlock{}, false
	case &s.body.pr:
		s.body, s.bodyUsed = bodyBlock{}, false
	case &s.imm.pr:
		s.imm, s.immUsed = immediateBlock{}, false
	}
}

// mutationOf returns the header mutation r carries, if any.
func mutationOf(r *extprocv3.ProcessingResponse) *extprocv3.HeaderMutation {
	switch v := r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return v.RequestHeaders.GetResponse().GetHeaderMutation()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return v.ResponseHeaders.GetResponse().GetHeaderMutation()
	case *extprocv3.ProcessingResponse_RequestBody:
		return v.RequestBody.GetResponse().GetHeaderMutation()
	case *extprocv3.ProcessingResponse_ResponseBody:
		return v.ResponseBody.GetResponse().GetHeaderMutation()
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		return v.ImmediateResponse.GetHeaders()
	}
	return nil
}

// free reports whether no block is handed out: a store goes back to the
// pool only then (a reply built and never sent, after an error, leaves
// its blocks to the collector instead).
func (s *replyStore) free() bool {
	return !s.hdrUsed && !s.bodyUsed && !s.immUsed && !s.mutUsed
}
