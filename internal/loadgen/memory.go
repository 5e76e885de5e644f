package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// MemoryWindow is what a MemoryProbe measured over one window.
type MemoryWindow struct {
	// PeakRSS is the server's peak resident set size in the window, in
	// bytes (0 when not measured).
	PeakRSS int64
	// RSSSource is how PeakRSS was measured: "VmHWM" (the kernel's peak,
	// reset at the window's start through /proc/<pid>/clear_refs) or
	// "VmRSS samples" (sampled every RSSSampleEvery when the peak cannot be
	// reset); "" when not measured.
	RSSSource string
	// Allocated is the bytes the server's Go heap allocated in the window
	// (-1 when unknown).
	Allocated int64
}

// MemoryProbe measures a server's memory over the measured window: Begin
// at its start, End at its end.
type MemoryProbe interface {
	Begin() error
	End() (MemoryWindow, error)
}

// RSSSampleEvery is the VmRSS sampling interval when VmHWM cannot be reset.
const RSSSampleEvery = 10 * time.Millisecond

// AllocMetric is the Prometheus counter read for allocated bytes: the Go
// collector's total of heap allocations (runtime/metrics
// /gc/heap/allocs:bytes).
const AllocMetric = "go_memstats_alloc_bytes_total"

// ProcMemory measures process Pid's RSS from /proc and, when MetricsURL is
// set, its Go heap allocations from the AllocMetric counter of the
// Prometheus text endpoint at MetricsURL (flowproc serve's admin /metrics,
// or the bench server child's).
type ProcMemory struct {
	Pid        int
	MetricsURL string

	allocStart int64
	allocErr   error
	// sampling fallback
	stop chan struct{}
	peak chan int64
	hwm  bool
	// sampleOnly skips the peak reset (tests of the fallback)
	sampleOnly bool
}

// Begin resets the peak RSS (writes 5 to /proc/<pid>/clear_refs) or, when
// that is not allowed, starts sampling VmRSS; and reads the allocation
// counter.
func (p *ProcMemory) Begin() error {
	p.allocStart, p.allocErr = -1, nil
	if p.MetricsURL != "" {
		p.allocStart, p.allocErr = ScrapeCounter(p.MetricsURL, AllocMetric)
	}
	if p.Pid <= 0 {
		return nil
	}
	p.hwm = !p.sampleOnly && os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid), []byte("5"), 0) == nil
	if p.hwm {
		return nil
	}
	if _, err := ProcStatus(p.Pid, "VmRSS"); err != nil {
		return err
	}
	p.stop, p.peak = make(chan struct{}), make(chan int64, 1)
	go func(stop <-chan struct{}, out chan<- int64) {
		var peak int64
		t := time.NewTicker(RSSSampleEvery)
		defer t.Stop()
		for {
			if v, err := ProcStatus(p.Pid, "VmRSS"); err == nil {
				peak = max(peak, v)
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}(p.stop, p.peak)
	return nil
}

// End reads the peak RSS and the allocations since Begin.
func (p *ProcMemory) End() (MemoryWindow, error) {
	w := MemoryWindow{Allocated: -1}
	var errs []error
	if p.MetricsURL != "" && p.allocErr == nil && p.allocStart >= 0 {
		end, err := ScrapeCounter(p.MetricsURL, AllocMetric)
		if err != nil {
			errs = append(errs, err)
		} else {
			w.Allocated = end - p.allocStart
		}
	} else if p.allocErr != nil {
		errs = append(errs, p.allocErr)
	}
	switch {
	case p.Pid <= 0:
	case p.hwm:
		v, err := ProcStatus(p.Pid, "VmHWM")
		if err != nil {
			errs = append(errs, err)
		} else {
			w.PeakRSS, w.RSSSource = v, "VmHWM"
		}
	case p.stop != nil:
		close(p.stop)
		w.PeakRSS, w.RSSSource = <-p.peak, "VmRSS samples"
		p.stop = nil
	}
	return w, errors.Join(errs...)
}

// ProcStatus returns a size field of /proc/<pid>/status ("VmRSS",
// "VmHWM", …) in bytes.
func ProcStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	return parseStatusField(string(data), field)
}

// parseStatusField finds "field:   123 kB" in a /proc status text.
func parseStatusField(status, field string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc status %s: %w", field, err)
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n <<= 10
		}
		return n, nil
	}
	return 0, fmt.Errorf("parse /proc status: no %s field", field)
}

var scrapeClient = &http.Client{Timeout: 5 * time.Second}

// ScrapeCounter reads the value of the sample named name (no labels) from
// the Prometheus text exposition at url.
func ScrapeCounter(url, name string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	return parseCounter(resp.Body, name)
}

// parseCounter finds "name value" in a Prometheus text exposition.
func parseCounter(r io.Reader, name string) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || len(rest) == 0 || rest[0] != ' ' {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, fmt.Errorf("metric %s: no value", name)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil && (v < 0 || v > math.MaxInt64 || v != v) {
			err = fmt.Errorf("%v is not a byte count", v)
		}
		if err != nil {
			return 0, fmt.Errorf("metric %s: %w", name, err)
		}
		return int64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("metric %s: %w", name, err)
	}
	return 0, fmt.Errorf("metric %s not exposed", name)
}

// memBegin opens the memory window; a failure is reported by memEnd.
func (r *runner) memBegin() {
	if r.cfg.ServerMemory != nil {
		r.memBeginErr = r.cfg.ServerMemory.Begin()
	}
}

// memEnd closes the memory window.
func (r *runner) memEnd() (MemoryWindow, error) {
	if r.cfg.ServerMemory == nil {
		return MemoryWindow{Allocated: -1}, nil
	}
	if r.memBeginErr != nil {
		return MemoryWindow{Allocated: -1}, r.memBeginErr
	}
	return r.cfg.ServerMemory.End()
}
