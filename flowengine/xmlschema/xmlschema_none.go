//go:build !(xslt && cgo)

package xmlschema

// Available reports whether this binary has an XML Schema validator.
func Available() bool { return false }

// Schema is a compiled XML Schema.
type Schema struct{}

func compile(string, map[string][]byte) (*Schema, error) { return nil, ErrUnavailable }

// Validate fails: this binary has no XML Schema validator.
func (*Schema) Validate([]byte) error { return ErrUnavailable }

// ValidateSOAPBody fails: this binary has no XML Schema validator.
func (*Schema) ValidateSOAPBody([]byte, string) error { return ErrUnavailable }
