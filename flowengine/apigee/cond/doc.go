// Package cond implements the Apigee Edge condition language: the text of
// <Condition> elements on Flows, Steps, RouteRules and FaultRules.
//
// Parse compiles a condition once, at load: operators, precedence and
// literals are resolved and Matches/MatchesPath/JavaRegex patterns are
// compiled. Expr.Eval then evaluates it per request against a Vars lookup
// without parsing and, for the common operators on string and number
// values, without allocating.
//
// The semantics follow the project reference (shared/Apigee docs: conditions), which cites the Apigee conditions reference and pattern-matching
// pages, and the grammar of apigee/apigeelint
// (lib/peggy/Apigee-Condition.pegjs, read, not copied). Where those sources
// are silent the choice is marked [inferred] in the code and listed in
// docs/apigee-conditions.md. testdata/conformance.yaml pins every rule,
// each case with its source.
//
// Errors: Parse returns *SyntaxError (stable code AC0xx, 1-based column);
// Eval returns *EvalError (AC1xx) only when a variable holds a value of a
// type conditions cannot compare.
package cond
