package store

import (
	"context"
	"fmt"
	"time"
)

// Usage is a counter's state after an operation.
type Usage struct {
	// Count is the total counted in the current window after the operation
	// (for a refused Take, the unchanged total).
	Count int64
	// ResetAt is when the count next drops: the end of a Calendar or Flexi
	// window, or the next bucket boundary of a Rolling window. Zero when
	// nothing is counted.
	ResetAt time.Time
	// Allowed is set by Take: true when n was added within the limit.
	// Incr and Get always set it to true.
	Allowed bool
}

// Counter counts weighted events per key over a Window (Apigee Quota).
//
// Calendar and Flexi windows are exact. Rolling windows are a bucketed
// sliding window: the interval is cut into 60 buckets of whole
// milliseconds and a Rolling count is the sum of the current bucket and as
// many earlier ones as cover at least one interval, so it spans between
// one interval and one interval plus one bucket. It therefore
// never under-counts (a limit is never exceeded over any true sliding
// interval) and may over-count by at most one bucket (1/60 of the
// interval) of old traffic, refusing slightly early after a burst. A
// sliding log would be exact but costs memory per event (a 10000/day quota
// would keep 10000 timestamps per key); the two-window approximation is
// O(1) but can admit up to twice the limit in a true interval. Buckets keep
// O(60) state and stay safe.
//
// Keys are the caller's: one key belongs to one window kind and length;
// a key reused with a different kind is counted independently and a
// different length restarts the count. All methods are atomic per key,
// also across processes for shared implementations.
type Counter interface {
	// Incr adds n (n >= 0) unconditionally and returns the new usage.
	Incr(ctx context.Context, key string, n int64, w Window) (Usage, error)
	// Take adds n only if the count stays <= limit; Usage.Allowed says
	// whether it did. A refused Take changes nothing.
	Take(ctx context.Context, key string, n, limit int64, w Window) (Usage, error)
	// Get returns the usage without changing it.
	Get(ctx context.Context, key string, w Window) (Usage, error)
	// Reset forgets key in every window kind.
	Reset(ctx context.Context, key string) error
}

// counterOp is one of the three counter operations shared by the
// implementations.
type counterOp struct {
	n, limit int64 // limit < 0: no limit (Incr); n == 0 and limit < 0: Get
	get      bool
}

func checkCounterArgs(n int64, limit int64, w Window) error {
	if n < 0 {
		return fmt.Errorf("counter weight %d (want >= 0): %w", n, ErrInvalid)
	}
	if limit < -1 {
		return fmt.Errorf("counter limit %d (want >= 0): %w", limit, ErrInvalid)
	}
	return w.Validate()
}

// kindPrefix separates the storage of the window kinds under one key.
func kindPrefix(k WindowKind) string {
	switch k {
	case Flexi:
		return "f:"
	case Rolling:
		return "r:"
	}
	return "c:"
}
