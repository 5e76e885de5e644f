package template

// Template is a compiled JSON template. It is immutable and safe for
// concurrent use by any number of goroutines.
type Template struct {
	src    string
	nodes  []node
	locals []string // local variable names, indexed by slot
}

// Source returns the text the template was parsed from.
func (t *Template) Source() string { return t.src }
