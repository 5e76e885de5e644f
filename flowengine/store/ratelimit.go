package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a smoothed request rate: Count requests per Per, spread evenly
// ("10pm" = one request every 6 s), with Burst requests allowed back to
// back (1 = no burst, Apigee SpikeArrest's behaviour).
type Rate struct {
	Count int64
	Per   time.Duration
	Burst int64 // 0 means 1
}

// ParseRate reads an Apigee SpikeArrest <Rate>: an integer followed by
// "ps" (per second) or "pm" (per minute), e.g. "30ps", "10pm".
func ParseRate(s string) (Rate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	var per time.Duration
	switch {
	case strings.HasSuffix(t, "ps"):
		per = time.Second
	case strings.HasSuffix(t, "pm"):
		per = time.Minute
	default:
		return Rate{}, fmt.Errorf("rate %q (want <n>ps or <n>pm): %w", s, ErrInvalid)
	}
	n, err := strconv.ParseInt(t[:len(t)-2], 10, 64)
	if err != nil || n < 1 {
		return Rate{}, fmt.Errorf("rate %q (want a positive integer before ps/pm): %w", s, ErrInvalid)
	}
	r := Rate{Count: n, Per: per, Burst: 1}
	if err := r.Validate(); err != nil {
		return Rate{}, err
	}
	return r, nil
}

// Validate reports a rate that cannot be honoured: the interval between two
// requests must be at least one microsecond.
func (r Rate) Validate() error {
	if r.Count < 1 || r.Per <= 0 || r.Burst < 0 {
		return fmt.Errorf("rate %d per %s burst %d: %w", r.Count, r.Per, r.Burst, ErrInvalid)
	}
	if r.Per > 24*time.Hour || r.Burst > 1_000_000 {
		return fmt.Errorf("rate per %s burst %d (at most 24h and 1e6): %w", r.Per, r.Burst, ErrInvalid)
	}
	if r.emission() < time.Microsecond {
		return fmt.Errorf("rate %d per %s is faster than one per microsecond: %w", r.Count, r.Per, ErrInvalid)
	}
	return nil
}

// emission is the time one request "costs": Per / Count, in whole
// microseconds (the resolution of the Redis implementation).
func (r Rate) emission() time.Duration {
	return (r.Per / time.Duration(r.Count)).Truncate(time.Microsecond)
}

func (r Rate) burst() int64 {
	if r.Burst < 1 {
		return 1
	}
	return r.Burst
}

// Decision is the answer of a RateLimiter.
type Decision struct {
	Allowed bool
	// RetryAfter is how long to wait before the same request would be
	// allowed; zero when Allowed. A request heavier than the burst can
	// never pass and gets RetryAfter -1.
	RetryAfter time.Duration
}

// RateLimiter smooths traffic per key (Apigee SpikeArrest). It implements
// GCRA (the generic cell rate algorithm, a token bucket kept as one
// timestamp): each key stores its theoretical arrival time (TAT); a request
// of weight n is allowed when max(TAT, now) + n*emission - now <= burst*
// emission, and then moves TAT there. Allowed requests are thus spaced
// emission apart on average, never faster than burst back to back. A
// refused request changes nothing.
type RateLimiter interface {
	TryAcquire(ctx context.Context, key string, n int64, r Rate) (Decision, error)
}

// gcra computes the GCRA step in microseconds: tat is the stored TAT (0 if
// none), now the current time. It returns the decision and the new TAT.
func gcra(tat, now, n int64, r Rate) (Decision, int64) {
	t := r.emission().Microseconds()
	dvt := t * r.burst()
	if n > r.burst() {
		return Decision{RetryAfter: -1}, tat
	}
	if tat < now {
		tat = now
	}
	next := tat + n*t
	if diff := next - now; diff > dvt {
		return Decision{RetryAfter: time.Duration(diff-dvt) * time.Microsecond}, tat
	}
	return Decision{Allowed: true}, next
}

func checkRateArgs(n int64, r Rate) error {
	if n < 1 {
		return fmt.Errorf("rate weight %d (want >= 1): %w", n, ErrInvalid)
	}
	return r.Validate()
}
