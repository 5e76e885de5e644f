package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseStatusField(t *testing.T) {
	status := "Name:\tflowproc\nVmPeak:\t  812345 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t9\n"
	for _, tc := range []struct {
		field string
		want  int64
		err   bool
	}{
		{"VmHWM", 20480 << 10, false},
		{"VmRSS", 10240 << 10, false},
		{"Threads", 9, false},
		{"VmSwap", 0, true},
	} {
		got, err := parseStatusField(status, tc.field)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s = %d, %v; want %d (error %v)", tc.field, got, err, tc.want, tc.err)
		}
	}
	if _, err := parseStatusField("VmRSS:\tlots kB\n", "VmRSS"); err == nil {
		t.Error("a malformed value parsed")
	}
}

func TestParseCounter(t *testing.T) {
	text := "# HELP go_memstats_alloc_bytes_total Total bytes allocated.\n# TYPE go_memstats_alloc_bytes_total counter\n" +
		"go_memstats_alloc_bytes_total_other 5\ngo_memstats_alloc_bytes_total 1.2345678e+07\n"
	got, err := parseCounter(strings.NewReader(text), AllocMetric)
	if err != nil || got != 12345678 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseCounter(strings.NewReader("other 1\n"), AllocMetric); err == nil {
		t.Error("a missing metric was found")
	}
	if _, err := parseCounter(strings.NewReader(AllocMetric+" x\n"), AllocMetric); err == nil {
		t.Error("a malformed value parsed")
	}
}

// TestProcMemory measures this process: the peak RSS covers a buffer
// touched inside the window, and the allocations come from the counter.
func TestProcMemory(t *testing.T) {
	var alloc atomic.Int64
	alloc.Store(1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%s %d\n", AllocMetric, alloc.Load())
	}))
	defer srv.Close()
	p := &ProcMemory{Pid: os.Getpid(), MetricsURL: srv.URL}
	if err := p.Begin(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	alloc.Add(5000)
	w, err := p.End()
	if err != nil {
		t.Fatal(err)
	}
	if w.Allocated != 5000 {
		t.Errorf("allocated %d, want 5000", w.Allocated)
	}
	if w.PeakRSS < 32<<20 || w.RSSSource == "" {
		t.Errorf("peak RSS %d (%s), want ≥ 32 MiB", w.PeakRSS, w.RSSSource)
	}
	t.Logf("peak RSS %d MiB from %s", w.PeakRSS>>20, w.RSSSource)
	buf[0] = 2

	// Where the peak cannot be reset: VmRSS sampling.
	s := &ProcMemory{Pid: os.Getpid(), sampleOnly: true}
	if err := s.Begin(); err != nil {
		t.Fatal(err)
	}
	w, err = s.End()
	if err != nil || w.PeakRSS <= 0 || w.Allocated != -1 || w.RSSSource != "VmRSS samples" {
		t.Errorf("sampled window: %+v, %v", w, err)
	}
	if _, err := ProcStatus(-1, "VmRSS"); err == nil {
		t.Error("a missing process was measured")
	}
}
