// Package expr is FLAT's expression layer: XPath 1.0 (evaluated by
// github.com/antchfx/xpath) plus $variables and extension functions, over
// dom trees. Expressions are compiled once, at load, and evaluated per
// request with no parsing.
//
// # Compiling
//
// Compile tokenizes and parses an expression itself (string literals
// respected, XPath 1.0 FLAT docs: JSON as XML (OXN) disambiguation), checks every function name and
// arity, and reports errors as *diag.PosError with a stable code
// (XPathSyntax, UnknownFunction, BadArity, BadVariable, Unsupported) and a
// 1-based line and column (counted in characters). It then rewrites the
// expression for antchfx, which has neither variables nor extension
// functions:
//
//   - $name becomes /following-sibling::_fp.v.name/node(): at evaluation
//     time the root of the navigated tree is followed by one mount element
//     per referenced variable (as its siblings, which no path over the
//     document reaches: /*, //x and a wildcard at the root see the
//     document alone), and the mount's children are the variable's nodes,
//     unchanged (names, attributes and subtrees), so $body/json/a (a
//     document), $cfg/stage (an OXN element) and $parts[2] (a node-set: one
//     child per node) all work and name($cfg) is "json".
//   - an extension call f(a, b) becomes /following-sibling::_fp.f.N/node();
//     each argument is compiled as its own expression, evaluated with the
//     same Context before the engine runs, and the result is mounted like a
//     variable.
//     Extension functions take precedence over antchfx functions of the same
//     name (ends-with, matches, replace).
//   - namespace prefixes in name tests are dropped (documents are parsed
//     without prefixes, see dom.ParseXML); prefix:* is *.
//   - conversions XPath 1.0 defines but the engine skips are made explicit:
//     string()/number() around arguments of contains, starts-with,
//     substring*, floor, ceiling, round; boolean() around the argument of
//     not() and around the non-boolean side of a comparison with a
//     boolean; comparisons with a scalar on the left and a node-set on the
//     right are mirrored; a non-integer number predicate ([1.5]) never
//     matches.
//
// An expression that is exactly one variable, one extension call or one
// literal evaluates without the engine and returns the raw value (a
// boolean variable stays a bool). Simple paths ($var, the context node or
// ., then child steps with names or * and at most one predicate each, an
// integer or a simple relative path compared with a literal, as in
// items/value[id = 7]/name; an optional final @attr), their comparison
// with a literal, and an extension call compared with a literal are
// evaluated directly on the tree; their results are the engine's (the
// tests check this on every such expression, and the fuzz target compares
// both on random input).
//
// # Values and mounts
//
// A Value is a string, float64, bool or NodeSet. Mounted as nodes:
//
//   - a node-set: its nodes;
//   - a string: one text node; a number: one text node formatted by
//     FormatNumber (integers without ".0");
//   - true: the text node "true"; false: NOTHING, so that a false variable
//     or call is an empty node-set and false in conditions (not($f),
//     $f = false() and boolean($f) behave as for a boolean);
//   - an undefined variable: nothing (the empty node-set: false, "" and
//     null, FLAT docs: variable scope).
//
// Because variables and call results reach the engine as nodes, they
// compare by string-value: with $n = 42, $n = '42.0' is false and with
// $t = true(), $t != 1 is true (XPath would convert both to numbers or
// booleans). Comparing with a literal of the intended type (number,
// true()/false()) behaves as expected.
//
// Navigation inside a mounted value goes down and across its own nodes
// only: the parent of a mounted top node is its (internal) mount, never its
// original parent, so $x/.. is empty in results (count($x/..) counts the
// mount, 1) and following-sibling:: from a mounted node reaches the other
// nodes of the same variable.
//
// # Evaluating
//
// Eval checks c.Ctx for cancellation, evaluates the mounted variables and
// calls, runs the engine over a navigator whose root is the context node's
// tree top (its document, or a synthetic root above a detached node) with
// the mounts as extra first children, and maps the engine's node-set back
// to the original dom nodes. An attribute in a node-set result is returned
// as a detached dom.TextNode whose Name is the attribute name and whose
// Data is its value (templates use the name for {{: @attr}}). A union
// reaching one node twice (through a variable and through the context
// tree) yields it once. Node-set results are in the engine's order: each
// operand of a union in turn, each in document order.
//
// Extension calls are evaluated eagerly, once per evaluation, before the
// engine runs (also when and/or would skip them). An error from a
// function, or a run-time type error of the engine (which panics, e.g.
// sum('x') or substring() with a NaN position), is returned wrapped (see
// ErrEval, ErrRegexp); Eval never panics.
//
// # Extension calls inside predicates
//
// A predicate that calls an extension function on the predicate's node
// (users/value[toupper(name) = 'BOB'], files/value[matches(., 'x', 'i')],
// name[tolower() = 'bob']) cannot run inside the engine. The compiler
// splits such a path: the part before the predicate is its own expression,
// the predicate (and the later predicates of the same step) is evaluated
// here node by node with the node as context and position()/last()
// counted per parent, and the rest of the path continues from the
// surviving nodes (evaluated from each node in its own tree when it goes
// up or sideways). Calls in predicates that do not read the predicate's
// node (a[b = json-parse($s)/x]) are evaluated once. A position-dependent
// predicate with such calls on an axis other than child or attribute is
// rejected (Unsupported).
//
// # Concurrency and cost
//
// An *Expr is immutable and safe for concurrent use. antchfx keeps
// evaluation state in its compiled query, so each Expr keeps a small pool
// of engine instances; a new instance is compiled only when all are busy
// (the pool grows to the expression's peak concurrency and is not emptied
// by garbage collection). After a scalar evaluation the instance is run
// once over an empty tree so that it retains nothing of the request.
// Regular expressions with literal patterns are compiled once per call
// site (an invalid one is a compile error); others are cached by pattern,
// up to 1024 entries.
//
// # Functions
//
// Register adds extension functions (one file per function here, fn_*.go):
// json-parse, json-stringify, json-to-xml, xml-to-json, json-doc, array,
// array-reverse, sort, split, join, base64-encode, base64-decode,
// apply-codecs, url-encode/urlencode, url-decode/urldecode, tolower,
// toupper, trim, capitalize-first, ends-with, matches, replace, md5,
// uuid3, uuid4, unixtime, jwt-decode, jwt-encode, xml-parse, html-parse,
// json-to-csv, calc-signature, verify-signature, encrypt, decrypt,
// file-exists, lookup, has-class, fit-serialize, ldap-lookup, ldap-query,
// verify-xmldsig.
// docs/functions.md has an example of each, run by TestDocExamples.
//
// Other packages register exchange-aware functions (body, content, …) the
// same way and reach the exchange through Context.Runtime. Functions here
// use optional Runtime interfaces too: Warner receives the warnings of
// functions that log and go on (xml-parse, html-parse, has-class,
// ldap-lookup), LDAPSettings gives the LDAP timeout and TLS roots, and
// FitResolver answers file-exists for fit://request/… resources.
//
// # Limitations
//
//   - Regular expressions run on Go's RE2 engine (linear time). Patterns
//     using PCRE features RE2 lacks (backreferences, lookahead and
//     lookbehind, atomic groups, possessive quantifiers) run on a small
//     backtracking engine (package regex) whose work is charged to the
//     run's budget (Context.Budget): going over it, or a cancelled run, is
//     an error, never a silent "no match". Modifiers i, m, s, x,
//     u and U are supported (x, also as a leading (?x), is applied by
//     stripping whitespace and comments). \w, \d, \s and  are ASCII, as
//     in PCRE without UCP; recursion, conditionals and \G are not
//     supported.
//   - lang(), id() and the namespace axis are not supported; the engine's
//     XPath 2 extras (lower-case, string-join, reverse) are available.
//   - The engine's own weaknesses remain where the rewrite does not reach
//     them: boolean(0 div 0) is true, a union is not sorted into document
//     order, substring() with a NaN position is an evaluation error, and
//     inside the engine strings convert to numbers with Go's float syntax
//     ("+5", "Inf"), where Number and the direct evaluation follow XPath
//     (NaN for those).
package expr
