package store

import "errors"

// ErrUnavailable wraps every failure to reach a shared store (Redis down,
// timed out, refused, loading). Callers test it with errors.Is and decide
// per policy whether to fail closed (reject) or open (let the request pass).
var ErrUnavailable = errors.New("store: unavailable")

// ErrInvalid reports an argument the store cannot honour: a bad window, a
// negative weight, a scope missing its name. It is a caller bug or a
// configuration error, never a transient condition.
var ErrInvalid = errors.New("store: invalid argument")

// ErrNotFound is returned by lookups (products, apps, keys) that found
// nothing.
var ErrNotFound = errors.New("store: not found")

// asErr is errors.As, kept short for the decoders.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
