package upstream

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// Mock is a Client for tests and the test runner: it answers by the Call's
// ID, then by Func, and otherwise fails the call with KindUnmocked. It
// records every call. Safe for concurrent use.
type Mock struct {
	// Func answers calls whose ID has no fixed answer; nil means none.
	Func func(ctx context.Context, c *Call) (*Result, error)

	mu    sync.Mutex
	byID  map[string]*Result
	calls []Call
}

// NewMock returns an empty Mock.
func NewMock() *Mock { return &Mock{byID: map[string]*Result{}} }

// Answer makes every call with this ID receive a copy of r.
func (m *Mock) Answer(id string, r *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID == nil {
		m.byID = map[string]*Result{}
	}
	m.byID[id] = r
}

// AnswerStatus is Answer with a status, headers and body.
func (m *Mock) AnswerStatus(id string, status int, header http.Header, body []byte) {
	if header == nil {
		header = http.Header{}
	}
	m.Answer(id, &Result{Status: status, Header: header, Body: body})
}

// Calls returns copies of the calls made so far, in order.
func (m *Mock) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// Do answers one call.
func (m *Mock) Do(ctx context.Context, c *Call) (*Result, error) {
	if c == nil {
		return nil, ErrNilCall
	}
	m.mu.Lock()
	m.calls = append(m.calls, *c)
	fixed, ok := m.byID[c.ID]
	m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		kind := KindCanceled
		if errors.Is(err, context.DeadlineExceeded) {
			kind = KindTimeout
		}
		return failed(c, kind, err.Error()), nil
	}
	var r *Result
	switch {
	case ok:
		r = copyResult(fixed)
	case m.Func != nil:
		var err error
		if r, err = m.Func(ctx, c); err != nil {
			return nil, err
		}
		if r == nil {
			return failed(c, KindUnmocked, "mock function returned no result for request "+c.ID), nil
		}
	default:
		return failed(c, KindUnmocked, "no mock answer for request "+c.ID), nil
	}
	if r.ID == "" {
		r.ID = c.ID
	}
	if r.URL == "" {
		r.URL = c.URL
	}
	return r, nil
}

// copyResult deep-copies the mutable parts so callers cannot alter the
// stored answer.
func copyResult(r *Result) *Result {
	out := *r
	out.Header = r.Header.Clone()
	if r.Body != nil {
		out.Body = append([]byte(nil), r.Body...)
	}
	if r.Err != nil {
		e := *r.Err
		out.Err = &e
	}
	return &out
}
