// Package budget bounds the work one run of a flow may do: steps executed,
// regular-expression work, bytes produced by decoders and bytes of output.
// A Budget is embedded by value in a run and reset at its start, so
// accounting allocates nothing. Every charge also observes the run's
// context, so a cancelled client stops a long computation promptly.
//
// A nil *Budget is valid: it is unlimited and never cancelled, for callers
// (tests, compile-time evaluation) that have no run.
package budget

import (
	"context"
	"fmt"
	"time"
)

// Default limits, used for a zero field of Limits.
const (
	// DefaultSteps is the default number of flow steps (actions and
	// control elements executed) per run.
	DefaultSteps = 100_000
	// DefaultRegexWork is the default regular-expression work per run, in
	// units of roughly one backtracking step or one input byte scanned by
	// RE2 (10M backtracking steps take about 0.3 s of CPU).
	DefaultRegexWork = 10_000_000
	// DefaultDecodedBytes is the default number of bytes decoders
	// (inflate, gunzip, base64…) may produce per run: 16 MiB.
	DefaultDecodedBytes = 16 << 20
	// DefaultOutputBytes is the default number of bytes templates and
	// string-building functions may produce per run: 16 MiB.
	DefaultOutputBytes = 16 << 20
	// DefaultTime is the default wall-clock time a run may spend waiting
	// for side calls: no side call may outlast it.
	DefaultTime = 60 * time.Second
)

// regexCheckEvery is how many regex work units may pass between two
// checks of the context.
const regexCheckEvery = 4096

// Limits are the per-run limits. A zero field means its default; a
// negative field means unlimited.
type Limits struct {
	// Steps bounds flow steps (default DefaultSteps).
	Steps int
	// RegexWork bounds regular-expression work units (default
	// DefaultRegexWork).
	RegexWork int64
	// DecodedBytes bounds bytes produced by decoders (default
	// DefaultDecodedBytes).
	DecodedBytes int64
	// OutputBytes bounds bytes of output produced (default
	// DefaultOutputBytes).
	OutputBytes int64
	// Time bounds the wall-clock time of a run's side calls (default
	// DefaultTime): each call's timeout is cut to what is left of it.
	Time time.Duration
}

// Kinds of exceeded limits, the values of ExceededError.Kind.
const (
	KindSteps   = "steps"
	KindRegex   = "regex"
	KindDecoded = "decoded"
	KindOutput  = "output"
)

// ExceededError reports that a run went over one of its limits. Its Kind
// is one of KindSteps, KindRegex, KindDecoded and KindOutput; front ends
// map each kind to a stable error code (FLAT: 5010 steps, 5011 regex,
// 5012 decoded, 5013 output; see docs/errors.md).
type ExceededError struct {
	// Kind names the limit: "steps", "regex", "decoded" or "output".
	Kind string
	// Limit is the limit that was exceeded.
	Limit int64
}

// Error implements error.
func (e *ExceededError) Error() string {
	switch e.Kind {
	case KindSteps:
		return fmt.Sprintf("run exceeded its limit of %d steps", e.Limit)
	case KindRegex:
		return fmt.Sprintf("run exceeded its limit of %d units of regular-expression work", e.Limit)
	case KindDecoded:
		return fmt.Sprintf("run exceeded its limit of %d decoded bytes", e.Limit)
	case KindOutput:
		return fmt.Sprintf("run exceeded its limit of %d output bytes", e.Limit)
	}
	return fmt.Sprintf("run exceeded its %s limit of %d", e.Kind, e.Limit)
}

// Budget is the accounting of one run. The zero value is unlimited and
// has no context until Reset. A Budget is used by one goroutine at a time.
type Budget struct {
	ctx context.Context
	// limits, resolved: <= 0 is unlimited
	steps, regex, decoded, output int64
	// used
	nSteps, nRegex, nDecoded, nOutput int64
	sinceCheck                        int64
	// exceeded is the first limit hit, returned again by every later
	// charge so a run cannot carry on after an error was swallowed.
	exceeded ExceededError
	// deadline is when the run's time is up, in Unix nanoseconds (0: no
	// time limit); an int64 rather than a time.Time keeps runs small.
	deadline int64
}

func resolve(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// Reset starts the accounting of a new run with context ctx (nil means
// context.Background) and limits l.
func (b *Budget) Reset(ctx context.Context, l Limits) {
	b.ResetAt(ctx, l, time.Time{})
}

// ResetAt is Reset with the run's time limit counted from start (the
// request's arrival, which the host read already), or from now when start
// is zero.
func (b *Budget) ResetAt(ctx context.Context, l Limits, start time.Time) {
	if ctx == nil {
		ctx = context.Background()
	}
	*b = Budget{
		ctx:     ctx,
		steps:   resolve(int64(l.Steps), DefaultSteps),
		regex:   resolve(l.RegexWork, DefaultRegexWork),
		decoded: resolve(l.DecodedBytes, DefaultDecodedBytes),
		output:  resolve(l.OutputBytes, DefaultOutputBytes),
	}
	if t := time.Duration(resolve(int64(l.Time), int64(DefaultTime))); t > 0 {
		if start.IsZero() {
			start = time.Now()
		}
		b.deadline = start.Add(t).UnixNano()
	}
}

// Remaining returns how long the run may still wait, given its own time
// limit and its context's deadline; ok is false when neither bounds it.
// A run whose time is up gets a zero duration with ok true.
func (b *Budget) Remaining() (d time.Duration, ok bool) {
	if b == nil {
		return 0, false
	}
	var end time.Time
	if b.deadline != 0 {
		end, ok = time.Unix(0, b.deadline), true
	}
	if b.ctx != nil {
		if cd, has := b.ctx.Deadline(); has && (!ok || cd.Before(end)) {
			end, ok = cd, true
		}
	}
	if !ok {
		return 0, false
	}
	return max(time.Until(end), 0), true
}

// Cap returns d cut to what is left of the run's time (d itself when the
// run has no time limit). A non-positive d means "no own limit": the
// result is then the remaining time, or 0 when nothing bounds the run.
func (b *Budget) Cap(d time.Duration) time.Duration {
	left, ok := b.Remaining()
	if !ok {
		return d
	}
	if d <= 0 || left < d {
		return left
	}
	return d
}

// Context returns the run's context (context.Background for a nil or
// never reset Budget).
func (b *Budget) Context() context.Context {
	if b == nil || b.ctx == nil {
		return context.Background()
	}
	return b.ctx
}

// Err returns the error of the run's context, nil while it runs.
func (b *Budget) Err() error {
	if b == nil || b.ctx == nil {
		return nil
	}
	return b.ctx.Err()
}

// charge adds n to *used and reports an ExceededError of kind when the
// total goes over limit (a limit <= 0 is unlimited: negative after Reset,
// zero in a Budget never reset).
func (b *Budget) charge(used *int64, n, limit int64, kind string) error {
	if b.exceeded.Kind != "" {
		return &ExceededError{Kind: b.exceeded.Kind, Limit: b.exceeded.Limit}
	}
	*used += n
	if limit > 0 && *used > limit {
		b.exceeded = ExceededError{Kind: kind, Limit: limit}
		return &ExceededError{Kind: kind, Limit: limit}
	}
	return nil
}

// Step counts one flow step and checks the context.
func (b *Budget) Step() error {
	if b == nil {
		return nil
	}
	if err := b.charge(&b.nSteps, 1, b.steps, KindSteps); err != nil {
		return err
	}
	if b.ctx != nil {
		return b.ctx.Err()
	}
	return nil
}

// Regex charges units of regular-expression work and checks the context
// at least every few thousand units.
func (b *Budget) Regex(units int64) error {
	if b == nil {
		return nil
	}
	if err := b.charge(&b.nRegex, units, b.regex, KindRegex); err != nil {
		return err
	}
	b.sinceCheck += units
	if b.sinceCheck >= regexCheckEvery {
		b.sinceCheck = 0
		if b.ctx != nil {
			return b.ctx.Err()
		}
	}
	return nil
}

// Decoded charges n bytes produced by a decoder (inflate, gunzip,
// base64…).
func (b *Budget) Decoded(n int64) error {
	if b == nil {
		return nil
	}
	return b.charge(&b.nDecoded, n, b.decoded, KindDecoded)
}

// DecodedLeft returns how many more bytes decoders may produce; -1 means
// unlimited. Decoders read at most DecodedLeft()+1 bytes so that a bomb is
// detected without being expanded.
func (b *Budget) DecodedLeft() int64 {
	if b == nil || b.decoded <= 0 {
		return -1
	}
	if left := b.decoded - b.nDecoded; left > 0 {
		return left
	}
	return 0
}

// Output charges n bytes of output (template results, bodies, built
// strings).
func (b *Budget) Output(n int64) error {
	if b == nil {
		return nil
	}
	return b.charge(&b.nOutput, n, b.output, KindOutput)
}

// Used reports what the run has consumed so far.
func (b *Budget) Used() (steps int, regex, decoded, output int64) {
	if b == nil {
		return 0, 0, 0, 0
	}
	return int(b.nSteps), b.nRegex, b.nDecoded, b.nOutput
}
