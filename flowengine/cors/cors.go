// Package cors implements FLAT's CORS handling (FLAT docs: CORS):
// the x-flat-cors extension of the API definition, or conf/config.xml's
// <cors> element, compiled into a Policy that decides, per request, whether
// FLAT answers a preflight itself and which headers every other response
// carries.
//
// The package only decides; it writes nothing. Decide returns a status and
// a plain header list that the engine applies:
//
//   - Answer set: respond now with Status, Headers and an empty body,
//     before routing, validation, security, mocking and flows.
//   - Answer not set: process the request as usual and add Headers to
//     whatever response it ends with (flow output, proxy, mock or error).
//
// Decisions where FLAT's documentation is silent (docs/cors.md):
//
//   - A preflight is OPTIONS with an Origin header on a path of the
//     definition. Access-Control-Request-Method is not required (FLAT's
//     documented curl preflight sends none), except on a path that defines
//     its own OPTIONS operation: there OPTIONS without it is an ordinary
//     request to that operation.
//   - Access-Control-Allow-Methods lists the path's operations in file
//     order, upper case, joined by ", "; a slimline path without
//     operations accepts every method and lists them all (AllMethods).
//   - Access-Control-Allow-Headers echoes Access-Control-Request-Headers.
//     FLAT's definition checks request headers later (validation), so
//     the preflight does not filter them.
//   - Preflight answers carry Allow-Methods, Allow-Headers and
//     Allow-Credentials whatever the origin (as FLAT's documented answer
//     for a foreign origin shows) and Allow-Origin only for an allowed
//     origin. Non-preflight responses carry Allow-Origin and
//     Allow-Credentials only for an allowed origin, and always
//     "Vary: Origin" (FLAT changelog 20210623).
//   - The allowed origin is reflected, never sent as "*", so that "*"
//     works with credentials. Origins compare case-insensitively; "*"
//     does not match the opaque origin "null" (list "null" to allow it).
//   - OPTIONS outside basePath is answered 405 with the non-preflight
//     headers. A preflight for an unknown path is not answered: routing
//     gives FLAT's 3204 error, which carries the non-preflight headers.
//   - config.xml's <cors> replaces x-flat-cors when both are set (it is
//     read after the definition).
package cors

// Header is one response header to add (never to replace: a Vary the
// response already has stays, and "Vary: Origin" is added next to it).
type Header struct{ Name, Value string }

// Header names used in decisions.
const (
	AllowOrigin      = "Access-Control-Allow-Origin"
	AllowCredentials = "Access-Control-Allow-Credentials"
	AllowMethods     = "Access-Control-Allow-Methods"
	AllowHeaders     = "Access-Control-Allow-Headers"
	Vary             = "Vary"
)

// AllMethods is Access-Control-Allow-Methods for a slimline path, which
// accepts every method.
const AllMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// Request is what a CORS decision reads from the client request.
type Request struct {
	// Method is the request method, e.g. "OPTIONS".
	Method string
	// Origin is the Origin header ("" when absent).
	Origin string
	// RequestMethod and RequestHeaders are Access-Control-Request-Method
	// and Access-Control-Request-Headers ("" when absent).
	RequestMethod, RequestHeaders string
}

// Decision is what the engine does for CORS on one request.
type Decision struct {
	// Answer: respond now with Status and Headers and an empty body.
	Answer bool
	// Status is the answer's status (200 for a preflight, 405 for OPTIONS
	// outside basePath); 0 when Answer is false.
	Status int
	// Headers are the answer's headers, or (Answer false) the headers to
	// add to the response the request ends with.
	Headers []Header
}

// Policy is a compiled CORS configuration. A nil *Policy is CORS disabled:
// its decisions are empty. A Policy is immutable and safe for concurrent
// use.
type Policy struct {
	anyOrigin   bool
	origins     []string // lower case, without a trailing slash
	credentials bool
}
