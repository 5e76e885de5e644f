package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func get(t *testing.T, m *Memory, key string) (string, bool) {
	t.Helper()
	v, ok, err := m.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v), ok
}

func set(t *testing.T, m *Memory, key, val string, ttl time.Duration) {
	t.Helper()
	if err := m.Set(context.Background(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func TestMemoryGetSetDelete(t *testing.T) {
	m := NewMemory(1<<20, nil)
	if _, ok := get(t, m, "a"); ok {
		t.Fatal("empty cache hit")
	}
	set(t, m, "a", "1", time.Minute)
	if v, ok := get(t, m, "a"); !ok || v != "1" {
		t.Fatalf("got %q %v", v, ok)
	}
	set(t, m, "a", "22", time.Minute)
	if v, _ := get(t, m, "a"); v != "22" {
		t.Fatalf("replace: got %q", v)
	}
	if err := m.Delete(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := get(t, m, "a"); ok {
		t.Fatal("hit after delete")
	}
	if err := m.Delete(context.Background(), "missing"); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
	if m.Bytes() != 0 || m.Len() != 0 {
		t.Fatalf("accounting: %d bytes %d entries", m.Bytes(), m.Len())
	}
}

func TestMemoryValueIsCopied(t *testing.T) {
	m := NewMemory(1<<20, nil)
	in := []byte("abc")
	if err := m.Set(context.Background(), "k", in, time.Minute); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X'
	out, _, _ := m.Get(context.Background(), "k")
	out[1] = 'Y'
	if v, _ := get(t, m, "k"); v != "abc" {
		t.Fatalf("stored value aliased: %q", v)
	}
}

func TestMemoryTTL(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	m := NewMemory(1<<20, c.now)
	set(t, m, "k", "v", 10*time.Second)
	c.add(9 * time.Second)
	if _, ok := get(t, m, "k"); !ok {
		t.Fatal("expired too early")
	}
	c.add(time.Second)
	if _, ok := get(t, m, "k"); ok {
		t.Fatal("hit at expiry")
	}
	if m.Len() != 0 {
		t.Fatal("expired entry kept after Get")
	}
	set(t, m, "z", "v", 0)
	if _, ok := get(t, m, "z"); ok {
		t.Fatal("ttl 0 stored")
	}
	set(t, m, "k", "v", time.Minute)
	set(t, m, "k", "v", -time.Second)
	if _, ok := get(t, m, "k"); ok {
		t.Fatal("negative ttl did not delete")
	}
}

func TestMemoryLRUEviction(t *testing.T) {
	per := int64(1+10) + entryOverhead // key "a" + 10-byte value
	m := NewMemory(3*per, nil)
	val := "0123456789"
	set(t, m, "a", val, time.Minute)
	set(t, m, "b", val, time.Minute)
	set(t, m, "c", val, time.Minute)
	get(t, m, "a") // a is now most recent; b is least
	set(t, m, "d", val, time.Minute)
	if _, ok := get(t, m, "b"); ok {
		t.Fatal("least recently used entry survived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := get(t, m, k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
	if m.Bytes() > 3*per {
		t.Fatalf("over bound: %d", m.Bytes())
	}
}

func TestMemoryExpiredEvictedFirst(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	per := int64(1+1) + entryOverhead
	m := NewMemory(2*per, c.now)
	set(t, m, "a", "1", time.Second)
	set(t, m, "b", "1", time.Hour)
	get(t, m, "a")
	c.add(2 * time.Second)
	set(t, m, "c", "1", time.Hour)
	if _, ok := get(t, m, "b"); !ok {
		t.Fatal("live entry evicted while an expired one was there")
	}
}

func TestMemoryTooLarge(t *testing.T) {
	m := NewMemory(100, nil)
	err := m.Set(context.Background(), "k", make([]byte, 200), time.Minute)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
}

func TestMemoryCanceledContext(t *testing.T) {
	m := NewMemory(100, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := m.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get: %v", err)
	}
	if err := m.Set(ctx, "k", nil, time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set: %v", err)
	}
	if err := m.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete: %v", err)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory(4096, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < 500; i++ {
				k := fmt.Sprintf("k%d", (g*7+i)%50)
				_ = m.Set(ctx, k, []byte("value"), time.Minute)
				_, _, _ = m.Get(ctx, k)
				if i%10 == 0 {
					_ = m.Delete(ctx, k)
				}
			}
		}(g)
	}
	wg.Wait()
	if m.Bytes() > 4096 {
		t.Fatalf("over bound: %d", m.Bytes())
	}
}

var _ Cache = (*Memory)(nil)
