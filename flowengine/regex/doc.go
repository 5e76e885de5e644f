// Package regex is flowproc's PCRE-style regular-expression engine, shared
// by the expression functions of every front end (matches, replace,
// split…). Patterns are compiled to Go's linear-time RE2 engine when it
// accepts them; backreferences, lookaround, atomic groups and possessive
// quantifiers run on a small backtracking engine instead.
//
// All matching is charged to the run's budget.Budget: work is bounded per
// run, not per search, and a cancelled run stops a search within a few
// thousand steps.
package regex
