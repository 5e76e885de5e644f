// Package expr is FLAT's expression layer: XPath 1.0 (evaluated by
// github.com/antchfx/xpath) plus $variables and extension functions, over
// dom trees. Expressions are compiled once, at load, and evaluated per
// request with no parsing.
package expr
