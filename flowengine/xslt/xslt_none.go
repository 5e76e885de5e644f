//go:build !(xslt && cgo)

package xslt

// Available reports whether this binary has an XSLT processor.
func Available() bool { return false }

// Stylesheet is a compiled XSLT stylesheet.
type Stylesheet struct{}

// Compile fails: this binary has no XSLT processor.
func Compile(string, []byte) (*Stylesheet, error) { return nil, ErrUnavailable }

// Transform fails: this binary has no XSLT processor.
func (*Stylesheet) Transform([]byte) (*Output, error) { return nil, ErrUnavailable }

// TransformWith fails: this binary has no XSLT processor.
func (*Stylesheet) TransformWith([]byte, []string) (*Output, error) { return nil, ErrUnavailable }
