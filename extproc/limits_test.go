package extproc

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/extproc/extproctest"
)

func TestStreamWaitTimeoutDerivation(t *testing.T) {
	for _, tc := range []struct {
		mt, want time.Duration
	}{
		{0, MinStreamWaitTimeout}, // Envoy's 200 ms default × 60 = 12 s, raised to the minimum
		{200 * time.Millisecond, MinStreamWaitTimeout},
		{time.Second, 60 * time.Second},
		{2 * time.Second, 120 * time.Second},
		{10 * time.Second, MaxStreamWaitTimeout},
		{time.Hour, MaxStreamWaitTimeout},
	} {
		if got := StreamWaitTimeout(tc.mt); got != tc.want {
			t.Errorf("StreamWaitTimeout(%v) = %v, want %v", tc.mt, got, tc.want)
		}
	}
	for _, tc := range []struct {
		opts Options
		want time.Duration
	}{
		{Options{}, MinStreamWaitTimeout},
		{Options{MessageTimeout: 3 * time.Second}, 180 * time.Second},
		{Options{StreamWaitTimeout: 7 * time.Second}, 7 * time.Second},
		{Options{StreamWaitTimeout: -1}, 0},
	} {
		if got := New(tc.opts).waitTimeout; got != tc.want {
			t.Errorf("New(%+v).waitTimeout = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := Limits{MaxConnectionAge: -1}.withDefaults()
	if l.MaxConcurrentStreams != DefaultMaxConcurrentStreams || l.MaxConnectionIdle != DefaultMaxConnectionIdle ||
		l.MaxConnectionAgeGrace != DefaultMaxConnectionAgeGrace || l.KeepaliveTime != DefaultKeepaliveTime ||
		l.KeepaliveTimeout != DefaultKeepaliveTimeout {
		t.Errorf("defaults not applied: %+v", l)
	}
	if infinite(l.MaxConnectionAge) != time.Duration(math.MaxInt64) {
		t.Errorf("a negative MaxConnectionAge must disable the limit, got %v", infinite(l.MaxConnectionAge))
	}
	if n := len(New(Options{}).GRPCOptions()); n != 6+len(transportOptions()) {
		t.Errorf("GRPCOptions has %d options, want 6 (message sizes, stream tap, streams, keepalive, enforcement) and the transport options", n)
	}
}

// TestWaitTimeoutFirstMessage: a stream opened without its first message is
// ended with DEADLINE_EXCEEDED after the wait timeout, not held forever.
func TestWaitTimeoutFirstMessage(t *testing.T) {
	s := New(Options{StreamWaitTimeout: 200 * time.Millisecond})
	conn := extproctest.Dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := extprocv3.NewExternalProcessorClient(conn).Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.Recv()
	// Interrupted in place (streamwait.go), grpc-go writes the status of
	// the interrupted Recv itself: DEADLINE_EXCEEDED, "context deadline
	// exceeded"; through the pump it is the exchange's own message.
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "deadline exceeded") && !strings.Contains(err.Error(), "stream wait timeout") {
		t.Fatalf("silent stream ended with %v, want DEADLINE_EXCEEDED (stream wait timeout)", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("ended after %v, before the 200ms wait timeout", d)
	}
}
