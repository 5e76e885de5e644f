package main

import (
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// TestBenchServerSettings: the bench's server child runs flowproc serve's
// default server options (the override_message_timeout watchdog of the 1s
// and 10s message timeouts, the stream wait, the serving limits), with
// only the body limit taken from the bench.
func TestBenchServerSettings(t *testing.T) {
	st, err := benchServerSettings(4096)
	if err != nil {
		t.Fatal(err)
	}
	serve, err := defaultServeConfig().check()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	got, want := st.serverOptions(nil, logger, nil), serve.serverOptions(nil, logger, nil)
	if got.BodyLimit != 4096 {
		t.Errorf("body limit %d, want the bench's 4096", got.BodyLimit)
	}
	if got.MessageTimeout != time.Second || got.MaxMessageTimeout != 10*time.Second || got.OverrideAfter != 0.5 {
		t.Errorf("message timeouts %v/%v after %v: the watchdog is not serve's", got.MessageTimeout, got.MaxMessageTimeout, got.OverrideAfter)
	}
	got.BodyLimit = want.BodyLimit
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bench server options\n%+v\nflowproc serve's\n%+v", got, want)
	}
}
