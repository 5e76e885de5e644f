package upstream

import (
	"context"
	"time"
)

// Observer is told about every side call an HTTP client made under a
// context that carries it (see ObservedContext): the call, its result and
// how long Do took (cache lookups included). It runs in the caller's
// goroutine and must not keep c or r.
type Observer interface {
	ObserveCall(c *Call, r *Result, d time.Duration)
}

// observerKey is the context key of an Observer.
type observerKey struct{}

// ObservedContext is a context whose side calls report to Observer. It is a
// struct rather than a context.WithValue so that a host can embed one in
// its per-exchange state and attach an observer without an allocation:
//
//	x.octx = upstream.ObservedContext{Context: ctx, Observer: obs}
//	ctx = &x.octx
//
// Deadlines, cancellation and other values are those of the embedded
// Context.
type ObservedContext struct {
	context.Context
	Observer Observer
}

// Value implements context.Context.
func (c *ObservedContext) Value(key any) any {
	if _, ok := key.(observerKey); ok {
		return c.Observer
	}
	return c.Context.Value(key)
}

// observerFrom returns the Observer ctx carries, nil when none.
func observerFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}
