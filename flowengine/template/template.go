package template

import "sync/atomic"

// Template is a compiled JSON template. It is safe for concurrent use by
// any number of goroutines; running it changes nothing but a size hint.
type Template struct {
	src    string
	nodes  []node
	locals []string // local variable names, indexed by slot
	shape  *shape   // nil unless the output always has the same members (shape.go)
	// treeText is the text length of a recent ExecuteTree result, to size
	// the next one's text in one allocation.
	treeText atomic.Int32
}

// Source returns the text the template was parsed from.
func (t *Template) Source() string { return t.src }
