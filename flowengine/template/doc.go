// Package template implements FLAT's JSON template language: a JSON skeleton
// with {{ }} commands whose expressions are XPath (flowengine/expr) evaluated
// against a context node ".". Templates are compiled once by Parse (every
// expression included) and run per request by Execute, which does no parsing
// and allocates nothing of its own beyond what expression evaluation needs.
//
// # Commands
//
//	{{ expr }}             placeholder: a typed JSON value (a space after "{{" is required)
//	{{.}}                  the context node as a typed value
//	{{// text }}           comment
//	{{,}}                  a comma, only if the JSON needs one
//	{{: expr }}            pair producer: "name":value for every selected node
//	{{$name := expr}}      local variable (reassignable)
//	{{if e}} … {{elseif e}} … {{else}} … {{end}}
//	{{loop expr}} … {{end}}
//	{{with expr}} … {{else}} … {{end}}
//
// Commands other than placeholders must follow "{{" directly. Anything else
// between "{{" and "}}" is an error ("Invalid template command: …"). Text
// outside commands is copied as written. "{{{" is read as a literal "{"
// followed by a command, so "{{{ a }}}" is an object brace around a
// placeholder. A "}}" inside a quoted string of an expression does not close
// the command.
//
// # Values
//
// A placeholder writes its result as JSON: a string quoted and escaped, a
// number as a JSON number (NaN and ±Inf as null, -0 as 0), a boolean as
// true/false, an empty node-set as null, and a non-empty node-set as its
// first node: an element via oxn.Write (typed by its OXN type attribute;
// untyped elements as oxn.Write renders them), an attribute or text node as
// a string, a document as its root element.
//
// # Null coalescing
//
// "a ?? b ?? c" is split at the top level only (quotes, parentheses and
// brackets are respected) and yields the first operand that is not null; if
// all are null, the last operand's value. Null means an empty node-set or a
// node-set whose first node is an OXN null (null=""). Scalars, including
// false and "", are not null. "??" is accepted in every command that takes
// an expression (placeholder, pair producer, variable, if, elseif, loop,
// with).
//
// # Commas
//
// Every comma — written in the skeleton, requested with {{,}}, or generated
// between loop items and after produced pairs — is pending until the next
// significant output. It is written only before a value or key, never right
// after "{", "[", ":" or another comma, and dropped before "}", "]", ":" or
// the end of the output. Commas the author wrote between values are therefore
// kept, and a trailing comma left by an optional member that produced
// nothing disappears. Text inside string literals of the skeleton is copied
// untouched.
//
// # Blocks
//
// if/elseif test their expression with XPath boolean() (so a non-empty
// node-set is true even when it holds an OXN false).
//
// loop iterates: the children of a single OXN array (a document counts as
// its root element); nothing for an empty node-set or a single OXN null;
// otherwise every node of the node-set, each as one item — a single object
// is one item, not its members. Scalar results give no iterations. Use
// array() to loop over arbitrary nodes; over array(//@*) each item is
// <value name="attr">, so {{ @name }} is the key. A comma is pending after
// every item.
//
// with sets "." to the first node of its result and runs the else part when
// the result is null (as for "??"), false or "". A non-empty string, a
// number or true becomes a typed OXN <value> node for ".".
//
// # Pair producer
//
// {{: expr }} writes "name":value for every node of the node-set, with a
// pending comma after each. The key is the element name, the name attribute
// of a json-element, or the attribute name of an attribute node; text nodes
// without a name are skipped, as are scalar results.
//
// # Variables
//
// {{$name := expr}} assigns a template-local variable. Locals are scoped to
// one execution of the template (a value assigned inside a loop or block is
// visible after it) and shadow the caller's variables of the same name from
// their first assignment on.
//
// # Errors
//
// Parse and Check report *diag.PosError values with 1-based Line and Col
// (characters) relative to the template source and code diag.TemplateSyntax;
// expression compile errors keep the expression's code and have their
// position translated into the template. Execute wraps evaluation errors and
// context cancellation with the template position ("template line L col C:
// …"), so errors.Is and errors.As see the cause.
package template
