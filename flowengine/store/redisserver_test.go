package store

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server started for the tests.
type redisServer struct {
	cmd  *exec.Cmd
	url  string
	out  *bytes.Buffer
	once sync.Once
}

// skipNoRedis is the message tests skip with when redis-server is absent.
const skipNoRedis = "redis-server not on PATH: Redis store tests skipped (Debian/Ubuntu: apt-get install redis-server)"

// startRedisServer starts redis-server on a free loopback port with its
// files in dir and waits until it answers PING. extra are more
// redis-server arguments. The caller stops it.
func startRedisServer(dir string, extra ...string) (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"}, extra...)
		s := &redisServer{cmd: exec.Command(path, args...), out: &bytes.Buffer{}}
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		s.url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
		if last = s.waitReady(extra); last == nil {
			return s, nil
		}
		s.stop()
	}
	return nil, fmt.Errorf("redis-server did not start: %w", last)
}

func (s *redisServer) waitReady(extra []string) error {
	var pass string
	for i := 0; i+1 < len(extra); i++ {
		if extra[i] == "--requirepass" {
			pass = extra[i+1]
		}
	}
	opt, _ := redis.ParseURL(s.url)
	opt.Password = pass
	c := redis.NewClient(opt)
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%w; output: %s", err, s.out.String())
}

// startRedisServerArgs starts redis-server with exactly these arguments
// (after --dir and persistence off) and does not wait for it.
func startRedisServerArgs(dir string, args ...string) (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	all := append([]string{"--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"}, args...)
	s := &redisServer{cmd: exec.Command(path, all...), out: &bytes.Buffer{}}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// stop kills the server and waits for it.
func (s *redisServer) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sharedRedis is the package-wide server started by TestMain ("" when
// redis-server is missing).
var sharedRedis string

var prefixSeq atomic.Int64

// testRedis returns a Redis on the shared server with a fresh key prefix,
// or skips the test.
func testRedis(t testing.TB, now func() time.Time) *Redis {
	t.Helper()
	if sharedRedis == "" {
		t.Skip(skipNoRedis)
	}
	r, err := NewRedis(sharedRedis, RedisOptions{Prefix: fmt.Sprintf("t%d:", prefixSeq.Add(1)), Now: now, OpTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runCounterChild())
	}
	code := func() int {
		if _, err := exec.LookPath("redis-server"); err != nil {
			fmt.Fprintln(os.Stderr, skipNoRedis)
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "flowproc-redis-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		s, err := startRedisServer(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer s.stop()
		sharedRedis = s.url
		return m.Run()
	}()
	os.Exit(code)
}
