package msgtemplate

import "fmt"

// Stable error codes: MT0xx from Parse, MT1xx from execution.
const (
	CodeUnterminatedCall = "MT001" // a function call without its closing ")" and suffix
	CodeMalformedCall    = "MT002" // bad argument list, or text between ")" and the suffix
	CodeUnknownFunction  = "MT003" // not one of Apigee's template functions
	CodeArity            = "MT004" // wrong number of arguments
	CodeBadArgument      = "MT005" // a literal argument the function cannot use (bad regex, format, path)
	CodeBadDelimiters    = "MT006" // prefix/suffix unusable (equal, or a name character)
	CodeUnresolved       = "MT100" // a variable did not resolve (ExecuteStrict)
	CodeFunctionFailed   = "MT101" // a function failed on its run-time input
	CodeUnsupportedValue = "MT102" // a variable holds a value of a type templates cannot render
)

// Error is a template that cannot be loaded. Col is the 1-based column (in
// characters, newlines counted as characters) where the problem starts.
type Error struct {
	Col  int
	Code string
	Msg  string
}

// Error returns "col N: MTnnn message".
func (e *Error) Error() string { return fmt.Sprintf("col %d: %s %s", e.Col, e.Code, e.Msg) }

// ExecError is a failure rendering a loaded template.
type ExecError struct {
	Code string
	// Ref is the function or variable that failed.
	Ref string
	Msg string
	Err error
}

// Error returns "MTnnn ref: message".
func (e *ExecError) Error() string { return fmt.Sprintf("%s %s: %s", e.Code, e.Ref, e.Msg) }

// Unwrap returns the underlying error, if any.
func (e *ExecError) Unwrap() error { return e.Err }

// UnresolvedError is returned by ExecuteStrict when a variable reference
// does not resolve (Apigee's IgnoreUnresolvedVariables=false).
type UnresolvedError struct {
	Name string
}

// Error returns "MT100 unresolved variable NAME".
func (e *UnresolvedError) Error() string { return CodeUnresolved + " unresolved variable " + e.Name }
