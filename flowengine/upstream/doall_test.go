package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/internal/racecheck"
)

func TestDoAllConcurrencyBound(t *testing.T) {
	for _, limit := range []int{0, 3, 32} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var inFlight, peak atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(200 * time.Microsecond) // let calls overlap
				inFlight.Add(-1)
				_, _ = w.Write([]byte(r.URL.Query().Get("i")))
			})
			h := newClient(t, HTTPOptions{})
			calls := make([]*Call, 1000)
			for i := range calls {
				calls[i] = &Call{ID: fmt.Sprint(i), URL: fmt.Sprintf("%s/?i=%d", srv.URL, i)}
			}
			rs := DoAll(t.Context(), h, calls, limit)
			if len(rs) != len(calls) {
				t.Fatalf("%d results", len(rs))
			}
			for i, r := range rs {
				wantOK(t, r, 200)
				if r.ID != fmt.Sprint(i) || string(r.Body) != fmt.Sprint(i) {
					t.Fatalf("result %d is %q / %q: order lost", i, r.ID, r.Body)
				}
			}
			want := int64(limit)
			if limit <= 0 {
				want = DefaultConcurrency
			}
			if p := peak.Load(); p > want || p < 1 {
				t.Errorf("peak in-flight %d, bound %d", p, want)
			}
			t.Logf("peak in-flight %d (bound %d)", peak.Load(), want)
		})
	}
}

func TestDoAllCancelled(t *testing.T) {
	hd := newHold(t)
	var started atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		hd.wait(r)
	})
	h := newClient(t, HTTPOptions{})
	calls := make([]*Call, 50)
	for i := range calls {
		calls[i] = &Call{ID: fmt.Sprint(i), URL: srv.URL, Timeout: time.Minute}
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for started.Load() < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	begin := time.Now()
	rs := DoAll(ctx, h, calls, 2)
	if d := time.Since(begin); d > racecheck.Scale(3*time.Second) {
		t.Errorf("DoAll took %v after cancellation", d)
	}
	for i, r := range rs {
		wantKind(t, r, KindCanceled)
		if r.ID != fmt.Sprint(i) {
			t.Errorf("result %d has ID %q", i, r.ID)
		}
	}
	if n := started.Load(); n > 4 {
		t.Errorf("%d calls reached the server after cancellation", n)
	}

	// A deadline that has already passed: nothing is sent.
	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	for _, r := range DoAll(dctx, h, calls[:3], 1) {
		wantKind(t, r, KindTimeout)
	}
}

// misbehaving is a Client that breaks its contract in several ways.
type misbehaving struct{}

func (misbehaving) Do(_ context.Context, c *Call) (*Result, error) {
	switch c.ID {
	case "err":
		return nil, errors.New("broken")
	case "nil":
		return nil, nil
	case "panic":
		panic("boom")
	}
	return &Result{ID: c.ID, Status: 204}, nil
}

func TestDoAllMisuse(t *testing.T) {
	calls := []*Call{{ID: "ok"}, nil, {ID: "err"}, {ID: "nil"}, {ID: "panic"}}
	rs := DoAll(t.Context(), misbehaving{}, calls, 0)
	wantOK(t, rs[0], 204)
	for _, r := range rs[1:] {
		wantKind(t, r, KindInvalid)
	}
	if rs[2].ID != "err" || rs[4].ID != "panic" {
		t.Errorf("IDs lost: %q %q", rs[2].ID, rs[4].ID)
	}
	if got := DoAll(t.Context(), misbehaving{}, nil, 4); len(got) != 0 {
		t.Errorf("no calls gave %d results", len(got))
	}
}
