package upstream

import (
	"context"
	"errors"
	"sync"
)

// DefaultConcurrency is DoAll's limit when none is given.
const DefaultConcurrency = 8

// DoAll performs calls concurrently, at most limit at a time (<= 0 means
// DefaultConcurrency), and returns their results in the order of calls.
// Calls not started when ctx ends fail with KindCanceled or KindTimeout
// without touching the network; a nil Call or a Client error becomes a
// KindInvalid result.
func DoAll(ctx context.Context, client Client, calls []*Call, limit int) []*Result {
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	results := make([]*Result, len(calls))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, c := range calls {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for j := i; j < len(calls); j++ {
				results[j] = ctxFailure(ctx, calls[j])
			}
			wg.Wait()
			return results
		}
		wg.Add(1)
		go func(i int, c *Call) {
			defer func() { <-sem; wg.Done() }()
			results[i] = doOne(ctx, client, c)
		}(i, c)
	}
	wg.Wait()
	return results
}

// doOne runs one call, turning misuse into a result.
func doOne(ctx context.Context, client Client, c *Call) (r *Result) {
	defer func() {
		if p := recover(); p != nil {
			r = failed(c, KindInvalid, "side-call client panicked")
		}
	}()
	if c == nil {
		return failed(nil, KindInvalid, ErrNilCall.Error())
	}
	r, err := client.Do(ctx, c)
	if err != nil {
		return failed(c, KindInvalid, err.Error())
	}
	if r == nil {
		return failed(c, KindInvalid, "client returned no result")
	}
	return r
}

func ctxFailure(ctx context.Context, c *Call) *Result {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failed(c, KindTimeout, ctx.Err().Error())
	}
	return failed(c, KindCanceled, ctx.Err().Error())
}
