// Package jwtauth enforces FLAT's JWT security (FLAT docs: JWT security,
// FLAT's reference/OpenAPI/security.md): security schemes with an
// x-flat-jwt extension, required by the definition's `security` lists at
// the top level, per path (a FLAT extension) or per operation.
//
// Compile does everything that can be done once, when the definition
// loads: it reads keys, algorithms and expected claims (literal values,
// {file: …} relative to the definition, {env: …}), parses the keys, builds
// one token parser per scheme and resolves the requirements of every path
// and operation. A construct it cannot honour is a load error, never
// ignored. Checker.Check then runs per request and only extracts, parses
// and verifies the token.
//
// An engine uses it so (FLAT's order, FLAT docs: project layout and request lifecycle "Request lifecycle"):
//
//	ck, errs := jwtauth.Compile(def, jwtauth.Options{Client: sideCalls})
//	// errs: the project does not load. Compile ck.PostCheckFlows() too.
//	...
//	// per request, after routing and request validation:
//	ok, fail := ck.Check(ctx, ck.ForMatch(match), req.Headers)
//	// fail: FLAT's error document (fail.Status, fail.Code, fail.Message,
//	// fail.Info) or the error flow. ok: for each ok.Tokens entry set the
//	// variable OutVar to Claims, send OutHeader: Claims on upstream
//	// requests, run PostCheckFlow; then the init flow.
//
// Decisions where FLAT's documentation is silent:
//
//   - Only schemes with x-flat-jwt count. They are dropped from every
//     requirement; a requirement left empty is dropped, and a list left
//     empty means no check (FLAT ignores the other schemes).
//   - A requirement naming several schemes needs all of them (Swagger's
//     AND); alternatives are tried in order and the first that passes
//     wins (its tokens in scheme-name order). A failure lists one info
//     line per failed alternative.
//   - The token comes from "Authorization: Bearer <jwt>" (scheme name
//     case-insensitive, first Authorization header) or from the cookie
//     named by x-flat-cookiename (first cookie of that name over all Cookie
//     headers). OpenAPI 3's type: http, scheme: bearer also reads the
//     Authorization header. x-flat-jwt on any other kind of scheme is a
//     load error.
//   - Algorithms: HS256/384/512, RS256/384/512 and, beyond FLAT,
//     ES256/384/512, PS256/384/512 and EdDSA; HS, RS, ES and PS mean any
//     of that family. Only the configured algorithm (or family) is
//     accepted: "none", and an HS token checked against an RSA key, never
//     pass. The key's type must fit the algorithm at load time.
//   - Keys: HMAC secrets are Base64URL as FLAT documents; public keys are
//     PEM with or without the BEGIN/END lines (PKIX, PKCS#1 or a
//     certificate). Private keys are refused. {jwks: URL} (a flowproc
//     extension) fetches a JSON Web Key Set through the upstream client
//     and caches it for max-age (or the response's shorter Cache-Control
//     max-age, at least 30 s); a fetch that fails, hangs past its timeout
//     or returns no usable key rejects the request (fail closed), and a
//     failed fetch is retried at most every 5 s.
//   - exp, nbf and iat are checked with a leeway (Options.Leeway, default
//     30 s); exp is optional, as in FLAT's own tutorial tokens. An iat in
//     the future (beyond the leeway) is rejected.
//   - {file: …} and {env: …} values are read once at load; surrounding
//     white space is trimmed. An unset variable or unreadable file is a
//     load error.
//   - An expected claim value (string, number or boolean) matches a claim
//     with the same value; a string expectation also matches a number or
//     boolean claim with the same text (values from {env} and {file} are
//     strings). For an array claim one matching element is enough.
//   - Tokens longer than Options.MaxTokenBytes (default 8 KiB) are
//     rejected before any decoding, so the work per request is bounded.
//   - A payload that repeats a key (at any depth) is malformed: the claims
//     checked must be the claims a flow sees. Success carries the payload
//     in its original key order (FLAT's out-header shows it so).
//
// A Checker is safe for concurrent use.
package jwtauth
