package extproc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type runCtxKey struct{}

// TestRunContext: runContext behaves as context.WithCancel of its parent
// whether Done is asked before or after a cancel or never, and whether the
// run or the parent ends first.
func TestRunContext(t *testing.T) {
	for _, tc := range []struct {
		name       string
		doneFirst  bool // ask Done before the end
		parentEnds bool // the parent ends, not the run
	}{
		{"cancel, Done never asked", false, false},
		{"cancel after Done", true, false},
		{"parent ends, Done never asked", false, true},
		{"parent ends after Done", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), runCtxKey{}, "v"))
			defer cancelParent()
			var c runContext
			c.init(parent)
			if c.Err() != nil {
				t.Fatalf("Err before the end = %v", c.Err())
			}
			if c.Value(runCtxKey{}) != "v" {
				t.Fatal("Value does not reach the parent")
			}
			if tc.doneFirst {
				select {
				case <-c.Done():
					t.Fatal("Done closed before the end")
				default:
				}
			}
			sub, cancelSub := context.WithTimeout(&c, time.Hour) // a side call's context
			defer cancelSub()
			if tc.parentEnds {
				cancelParent()
			} else {
				c.cancel()
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("Done not closed after the end")
			}
			select {
			case <-sub.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("a derived context did not end with the run's")
			}
			if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(&c), context.Canceled) {
				t.Fatalf("Err = %v, Cause = %v, want context.Canceled", c.Err(), context.Cause(&c))
			}
			if !tc.parentEnds && parent.Err() != nil {
				t.Fatal("the run's cancel ended its parent")
			}
			if c.Value(runCtxKey{}) != "v" {
				t.Fatal("Value does not reach the parent after the end")
			}
		})
	}
}

// TestRunContextErrBeforeDone: Err after cancel is Canceled without Done
// ever being asked, and the parent's own error (a stream wait timeout is
// DeadlineExceeded) shows through.
func TestRunContextErrBeforeDone(t *testing.T) {
	var c runContext
	c.init(context.Background())
	c.cancel()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v", c.Err())
	}
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	var d runContext
	d.init(parent)
	if !errors.Is(d.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err under an expired parent = %v", d.Err())
	}
	if dl, ok := d.Deadline(); !ok || !dl.Before(time.Now()) {
		t.Fatalf("Deadline = %v, %v", dl, ok)
	}
}

// TestRunContextConcurrent races Done, Err, Value and cancel (go test -race).
func TestRunContextConcurrent(t *testing.T) {
	for range 100 {
		var c runContext
		c.init(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { <-c.Done() })
		wg.Go(func() { _ = c.Err(); _ = c.Value(runCtxKey{}) })
		wg.Go(c.cancel)
		wg.Wait()
		if c.Err() == nil {
			t.Fatal("not cancelled")
		}
	}
}

// TestRunContextAllocations: a run that never waits on Done costs no
// allocation for its context.
func TestRunContextAllocations(t *testing.T) {
	parent := WithStreamCancel(context.Background())
	c := new(runContext) // as in the exchange, which is allocated anyway
	if n := testing.AllocsPerRun(100, func() {
		*c = runContext{}
		c.init(parent)
		_ = c.Err()
		c.cancel()
	}); n != 0 {
		t.Errorf("%.0f allocations, want 0", n)
	}
}

// TestRunContextErrFromParentDone checks Err answered from the parent's
// Done channel: nil under a parent that can never end, and the parent's
// own error (DEADLINE_EXCEEDED for a stream wait) once it ended.
func TestRunContextErrFromParentDone(t *testing.T) {
	var never runContext
	never.init(context.Background())
	if never.parentDone != nil || never.Err() != nil {
		t.Fatalf("under context.Background: Done %v, Err %v", never.parentDone, never.Err())
	}
	parent := WithStreamCancel(context.Background())
	var c runContext
	c.init(parent)
	if c.Err() != nil {
		t.Fatalf("Err before the end = %v", c.Err())
	}
	streamOf(parent).cancel(errStreamWait)
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err after the stream wait = %v", c.Err())
	}
}
