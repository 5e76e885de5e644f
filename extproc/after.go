package extproc

import (
	"context"
	"fmt"
	"time"
)

// Post-response hooks (Outcome.After: Apigee PostClientFlow, logging) run
// once the exchange's last reply has gone to Envoy, in a goroutine of their
// own so they never delay the stream, with a deadline of their own, and at
// most maxAfterHooks at a time (beyond that a hook runs in the stream's
// goroutine: back-pressure instead of unbounded goroutines).
const (
	maxAfterHooks = 1024
	afterTimeout  = 30 * time.Second
)

// afterResponse starts x's post-response hook, if any.
func (s *Server) afterResponse(x *exchange) {
	o := x.out
	if o == nil || o.After == nil {
		return
	}
	s.hooks.Add(1)
	select {
	case s.hookSlots <- struct{}{}:
		go func() {
			defer func() { <-s.hookSlots }()
			s.runAfter(x.request.ID, o.After)
		}()
	default:
		s.runAfter(x.request.ID, o.After)
	}
}

// runAfter runs one hook with its deadline, recovering a panic.
func (s *Server) runAfter(requestID string, f func(context.Context)) {
	defer s.hooks.Done()
	defer func() {
		if r := recover(); r != nil {
			s.metrics.panics.Inc()
			s.log.Error("panic recovered in a post-response hook", "requestID", requestID, "panic", fmt.Sprint(r))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), afterTimeout)
	defer cancel()
	f(ctx)
}

// waitHooks waits for running post-response hooks until ctx ends.
func (s *Server) waitHooks(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.hooks.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for post-response hooks: %w", ctx.Err())
	}
}
