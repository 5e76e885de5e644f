package runtime

import "errors"

// ErrForwarded is returned by Exchange.Forward when the exchange was
// already forwarded: a request goes upstream once.
var ErrForwarded = errors.New("the request was already forwarded")

// ErrNotForwarded is returned when the upstream response is read before the
// request was forwarded.
var ErrNotForwarded = errors.New("the request was not forwarded")
