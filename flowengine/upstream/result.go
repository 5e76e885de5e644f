package upstream

import (
	"net/http"
	"net/url"
	"time"
)

// Kind is a stable name for why a call failed; FLAT and Apigee map it to
// their own error variables, so the strings never change.
type Kind string

// The failure kinds a Result can carry.
const (
	// KindTimeout: the total, connect or time-to-first-byte timeout, or the
	// context deadline, expired.
	KindTimeout Kind = "timeout"
	// KindConnect: the connection could not be made (refused, DNS, reset
	// before a response).
	KindConnect Kind = "connect"
	// KindTLS: the TLS handshake failed (certificate, version, cipher).
	KindTLS Kind = "tls"
	// KindTooManyRedirects: more redirects than allowed.
	KindTooManyRedirects Kind = "too-many-redirects"
	// KindBodyTooLarge: the response body exceeded the byte bound.
	KindBodyTooLarge Kind = "body-too-large"
	// KindCanceled: the caller's context was cancelled.
	KindCanceled Kind = "canceled"
	// KindHTTP: the upstream broke the HTTP protocol or the exchange
	// failed after connecting.
	KindHTTP Kind = "http"
	// KindInvalid: the Call cannot be sent as given (bad URL, unknown
	// cipher, unreadable client key, conflicting options).
	KindInvalid Kind = "invalid"
	// KindUnmocked: a Mock had no answer for the call.
	KindUnmocked Kind = "unmocked"
)

// Error describes a failed call.
type Error struct {
	Kind    Kind
	Message string
}

// Error implements error.
func (e *Error) Error() string { return string(e.Kind) + ": " + e.Message }

// Timings are measured from Start; zero when the phase did not happen
// (Connect and TLS are zero for a reused connection).
type Timings struct {
	Start   time.Time
	DNS     time.Duration
	Connect time.Duration
	TLS     time.Duration
	// TTFB is from Start to the first response byte of the last hop.
	TTFB  time.Duration
	Total time.Duration
}

// Result is what a side call produced. Exactly one of "a response" (Status
// > 0) or Err is set, except that a response served from cache is a
// response.
type Result struct {
	// ID is the Call's ID.
	ID string
	// URL is the final URL, after redirects, with any password in it
	// redacted.
	URL string
	// Status is the HTTP status; 0 when Err is set.
	Status int
	// Header are the response headers (canonical names).
	Header http.Header
	// Body is the full response body, within the byte bound.
	Body []byte
	// Timings of the call.
	Timings Timings
	// Redirects is how many redirects were followed.
	Redirects int
	// CacheHit is true when the body came from the cache, revalidated or
	// not; Revalidated when a 304 confirmed it.
	CacheHit    bool
	Revalidated bool
	// ConnReused is true when the (last) connection came from the pool.
	ConnReused bool
	// CacheError reports a failing cache store; the call itself went on
	// without the cache.
	CacheError string
	// Err is set when the call failed.
	Err *Error
	// Extra is front-end data about the result (FLAT's upstream OpenAPI
	// check errors); the client never sets it.
	Extra any
}

// Failed reports whether the call produced no response.
func (r *Result) Failed() bool { return r.Err != nil }

// failed builds a Result for a failure.
func failed(c *Call, kind Kind, msg string) *Result {
	r := &Result{Err: &Error{Kind: kind, Message: msg}}
	if c != nil {
		r.ID, r.URL = c.ID, redactURL(c.URL)
	}
	return r
}

// redactURL hides a password in a URL's userinfo, so Result.URL (which
// FLAT shows as $upstream/<id>/url and logs) never carries one.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}
