package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// childEnv makes the test binary act as one counter-hammering process
// (see runCounterChild) instead of running tests.
const childEnv = "FLOWPROC_STORE_COUNTER_CHILD"

const (
	childLimit   = 300
	childWorkers = 8
)

var childWindow = Window{Kind: Calendar, Interval: 1, Unit: Hour}

// runCounterChild takes from one shared counter with 8 goroutines until
// the limit refuses them, then prints how many Takes were allowed.
func runCounterChild() int {
	url, prefix, key := os.Getenv(childEnv), os.Getenv(childEnv+"_PREFIX"), os.Getenv(childEnv+"_KEY")
	startAt, _ := strconv.ParseInt(os.Getenv(childEnv+"_START"), 10, 64)
	r, err := NewRedis(url, RedisOptions{Prefix: prefix, OpTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer r.Close()
	c := r.Counter()
	time.Sleep(time.Until(time.UnixMilli(startAt)))
	var allowed atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for g := 0; g < childWorkers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				u, err := c.Take(context.Background(), key, 1, childLimit, childWindow)
				if err != nil {
					failed.Store(err)
					return
				}
				if !u.Allowed {
					return
				}
				if u.Count > childLimit {
					failed.Store(fmt.Errorf("count %d over limit", u.Count))
					return
				}
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Printf("allowed=%d\n", allowed.Load())
	return 0
}

// TestRedisCounterTwoProcesses runs two separate processes of this test
// binary, 8 goroutines each, taking from one Redis counter: together they
// get exactly the limit, never more.
func TestRedisCounterTwoProcesses(t *testing.T) {
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("mp%d:", prefixSeq.Add(1))
	start := time.Now().Add(500 * time.Millisecond).UnixMilli()
	type result struct {
		out []byte
		err error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+sharedRedis, childEnv+"_PREFIX="+prefix,
			childEnv+"_KEY=shared", childEnv+"_START="+strconv.FormatInt(start, 10))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := cmd.Output()
			if ee, ok := err.(*exec.ExitError); ok {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			results[i] = result{out, err}
		}(i)
	}
	wg.Wait()
	var total int64
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("child %d: %v", i, r.err)
		}
		s := strings.TrimSpace(string(r.out))
		n, err := strconv.ParseInt(strings.TrimPrefix(s, "allowed="), 10, 64)
		if err != nil {
			t.Fatalf("child %d output %q", i, s)
		}
		t.Logf("child %d allowed %d", i, n)
		total += n
	}
	if total != childLimit {
		t.Fatalf("two processes were allowed %d in total, limit %d", total, childLimit)
	}
	r, err := NewRedis(sharedRedis, RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	u, err := r.Counter().Get(context.Background(), "shared", childWindow)
	if err != nil {
		t.Fatal(err)
	}
	if u.Count != childLimit {
		t.Fatalf("stored count %d, want %d", u.Count, childLimit)
	}
}
