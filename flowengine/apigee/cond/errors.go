package cond

import "fmt"

// Stable error codes. Syntax and load errors (AC0xx) come from Parse;
// evaluation errors (AC1xx) from Eval.
const (
	CodeUnbalancedQuote  = "AC001" // a double-quoted string literal is not closed
	CodeUnbalancedParen  = "AC002" // a "(" is not closed
	CodeUnexpectedParen  = "AC003" // a ")" without its "("
	CodeEmpty            = "AC004" // the condition is empty or blank
	CodeExpectedOperand  = "AC005" // a variable, literal or "(" was expected
	CodeExpectedOperator = "AC006" // an operator, and/or or the end was expected
	CodeBadChar          = "AC007" // a character that starts no token
	CodeBadNegation      = "AC008" // "not" before an operator that cannot be negated inline
	CodePatternOperand   = "AC009" // a pattern operator without a string literal (or StartsWith with a number)
	CodeBadNumber        = "AC010" // a malformed or out-of-range number literal
	CodeMissingOperand   = "AC011" // an operator without its right operand
	CodeUnbalancedName   = "AC012" // a single-quoted variable name is not closed
	CodeTooDeep          = "AC013" // nesting deeper than MaxDepth
	CodeUnknownOperator  = "AC014" // a word that looks like an operator Apigee does not have
	CodeRegexUnsupported = "AC020" // JavaRegex uses a Java feature Go's RE2 engine lacks
	CodeRegexInvalid     = "AC021" // JavaRegex pattern does not compile
	CodeUnsupportedValue = "AC100" // a variable holds a value of a type conditions cannot compare
)

// SyntaxError is a condition that cannot be loaded. Col is the 1-based
// column (in characters) in the condition text where the problem starts;
// a condition spanning lines counts its newlines as characters.
type SyntaxError struct {
	Col  int
	Code string
	Msg  string
}

// Error returns "col N: ACnnn message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("col %d: %s %s", e.Col, e.Code, e.Msg)
}

// EvalError is a failure evaluating a loaded condition against variables.
type EvalError struct {
	Code string
	// Var is the variable whose value could not be used.
	Var string
	Msg string
}

// Error returns "ACnnn variable: message".
func (e *EvalError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Code, e.Var, e.Msg)
}
