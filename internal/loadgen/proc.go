package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProcCPU returns the CPU time (user + system, all threads) that process
// pid has used so far, from /proc/<pid>/stat (Linux). The resolution is one
// clock tick (usually 10 ms), so measure windows of seconds.
func ProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return parseStatCPU(string(data), clockTicks())
}

// parseStatCPU extracts utime+stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may contain spaces or parentheses, so fields are counted from the last
// ')'.
func parseStatCPU(stat string, ticksPerSec int64) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("parse /proc stat: no ')' after the command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command name, want ≥ 13", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse /proc stat: %w", err)
	}
	ticks := utime + stime
	return time.Duration(ticks) * time.Second / time.Duration(ticksPerSec), nil
}

var clockTicksOnce = sync.OnceValue(readClockTicks)

// clockTicks returns USER_HZ, the unit of /proc/<pid>/stat times.
func clockTicks() int64 { return clockTicksOnce() }

// readClockTicks reads AT_CLKTCK from the auxiliary vector (what
// sysconf(_SC_CLK_TCK) returns), falling back to Linux's fixed 100.
func readClockTicks() int64 {
	const atClkTck = 17
	data, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	word := strconv.IntSize / 8
	for off := 0; off+2*word <= len(data); off += 2 * word {
		var key, val uint64
		if word == 8 {
			key, val = binary.NativeEndian.Uint64(data[off:]), binary.NativeEndian.Uint64(data[off+8:])
		} else {
			key, val = uint64(binary.NativeEndian.Uint32(data[off:])), uint64(binary.NativeEndian.Uint32(data[off+4:]))
		}
		if key == atClkTck && val > 0 {
			return int64(val)
		}
		if key == 0 {
			break
		}
	}
	return 100
}

// LoadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg
// (zeros when unavailable).
func LoadAvg() [3]float64 {
	var la [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return la
	}
	for i, f := range strings.Fields(string(data)) {
		if i >= 3 {
			break
		}
		la[i], _ = strconv.ParseFloat(f, 64)
	}
	return la
}

// AddrPrefix starts the line a server child prints on stdout once it
// listens: "ADDR host:port".
const AddrPrefix = "ADDR "

// MetricsPrefix starts the optional line a server child prints on stdout
// before the ADDR line: "METRICS http://host:port/metrics", a Prometheus
// endpoint with the Go collector's AllocMetric (for Child.Memory).
const MetricsPrefix = "METRICS "

// Child is a server running in a child process, so that its CPU time can be
// read apart from the load generator's.
type Child struct {
	// Addr is the address the child printed.
	Addr string
	// Pid is the child's process ID.
	Pid int
	// MetricsURL is the Prometheus endpoint the child printed ("" if none).
	MetricsURL string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	done   chan struct{}
	err    error
}

// StartChild runs name with args (and env added to this process's
// environment) and waits up to startTimeout for it to print
// "ADDR host:port" on stdout. The child's stderr goes to stderr. The child
// must exit when its stdin is closed (see Stop); it is killed if ctx ends.
func StartChild(ctx context.Context, name string, args, env []string, stderr io.Writer, startTimeout time.Duration) (*Child, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	// An *os.File as stdout: Wait does not wait for the pipe to close, so
	// a grandchild holding it open cannot block Kill.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	cmd.Stdout = pw
	err = cmd.Start()
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		return nil, fmt.Errorf("start server child: %w", err)
	}
	c := &Child{Pid: cmd.Process.Pid, cmd: cmd, stdin: stdin, stdout: pr, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	type announced struct{ addr, metrics string }
	addr := make(chan announced, 1)
	go func() {
		defer close(addr)
		sc := bufio.NewScanner(pr)
		found := false
		var metrics string
		for sc.Scan() { // read to the end: a full pipe would block the child
			line := sc.Text()
			switch {
			case found:
			case strings.HasPrefix(line, MetricsPrefix):
				metrics = strings.TrimSpace(strings.TrimPrefix(line, MetricsPrefix))
			case strings.HasPrefix(line, AddrPrefix):
				found = true
				addr <- announced{strings.TrimSpace(strings.TrimPrefix(line, AddrPrefix)), metrics}
			}
		}
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case a, ok := <-addr:
		if !ok {
			<-c.done
			_ = pr.Close()
			return nil, fmt.Errorf("server child exited before listening: %w", errOrExit(c.err))
		}
		if a.addr == "" {
			_ = c.Kill()
			return nil, errors.New("server child printed an empty address")
		}
		c.Addr, c.MetricsURL = a.addr, a.metrics
		return c, nil
	case <-timer.C:
		_ = c.Kill()
		return nil, fmt.Errorf("server child did not print its address within %s", startTimeout)
	case <-ctx.Done():
		_ = c.Kill()
		return nil, fmt.Errorf("start server child: %w", ctx.Err())
	}
}

// errOrExit describes how a child that printed no address ended.
func errOrExit(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

// CPU returns the child's CPU time so far (ProcCPU).
func (c *Child) CPU() (time.Duration, error) { return ProcCPU(c.Pid) }

// Memory returns a probe of the child's peak RSS and, when it printed a
// metrics URL, its heap allocations.
func (c *Child) Memory() MemoryProbe { return &ProcMemory{Pid: c.Pid, MetricsURL: c.MetricsURL} }

// Stop closes the child's stdin, which asks it to shut down (and write its
// CPU profile, if any), and waits up to timeout before killing it.
func (c *Child) Stop(timeout time.Duration) error {
	_ = c.stdin.Close()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
		_ = c.stdout.Close()
		if c.err != nil {
			return fmt.Errorf("server child %d: %w", c.Pid, c.err)
		}
		return nil
	case <-timer.C:
		_ = c.Kill()
		return fmt.Errorf("server child %d did not stop within %s; killed", c.Pid, timeout)
	}
}

// Kill kills the child and waits for it.
func (c *Child) Kill() error {
	_ = c.cmd.Process.Kill()
	<-c.done
	_ = c.stdout.Close()
	return nil
}
