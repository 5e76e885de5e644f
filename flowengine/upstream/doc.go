// Package upstream is flowproc's side-call client: the HTTP
// calls a flow makes itself — FLAT request/requests, later Apigee
// ServiceCallout and JWKS fetches — as opposed to the forward that Envoy
// performs.
//
// The package is front-end neutral. A front end builds a Call from its own
// configuration (FLAT's JSON options, an Apigee policy), hands it to a
// Client, and turns the Result into its own variables. Upstream failures
// (timeouts, refused connections, TLS errors, oversized bodies) are part of
// the Result, never a Go error: a Go error from Client.Do means the caller
// broke the contract (a nil Call).
//
// Two Clients exist: HTTP (net/http with shared transports and an optional
// RFC 9111 cache over a store.Cache) for production, and Mock for the test
// runner.
package upstream
