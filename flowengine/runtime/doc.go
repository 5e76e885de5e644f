// Package runtime is the front-end-neutral layer every flow language runs
// on: the state of one exchange (the request, its lazily read
// body, the forward, the upstream response and the response being built),
// the step loop with its conditions, tracing and cancellation checks,
// outcome building, panic recovery and the post-response hook.
//
// A front end (FLAT, Apigee) compiles its sources into Steps at load time
// and keeps its own variable view and error semantics; per request it embeds
// an Exchange in its run state and drives its steps through Run.
package runtime
