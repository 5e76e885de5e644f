package reqdecode

import (
	"strings"
	"unicode/utf8"
)

// decoder holds one message's shared buffers, so that a message costs a
// few allocations for its text however many fields it has: the header
// names and values are substrings of headerText and the raw header values
// slices of raw, each sized exactly beforehand; the strings of attributes
// and metadata are substrings of metaText. Keeping a header (flowproc keeps
// a request's headers for its exchange) therefore pins only header text,
// never a large metadata or attributes field.
type decoder struct {
	headerText, metaText textBuf
	// inMeta is set while attributes or metadata are decoded.
	inMeta bool
	// rawSize is what raw will be asked to hold (textSizes).
	rawSize int
	raw     []byte
}

// textBuf is a string buffer that only grows: a string handed out is never
// written again (the guarantee strings.Builder's String keeps).
type textBuf struct {
	// size is what the buffer will be asked to hold, at most (textSizes).
	size int
	b    strings.Builder
}

// add copies b into the buffer and returns it as a string.
func (t *textBuf) add(b []byte) string {
	if t.b.Cap() == 0 {
		t.b.Grow(max(t.size, len(b)))
	}
	start := t.b.Len()
	t.b.Write(b)
	return t.b.String()[start:]
}

// str returns b as a string in the message's string buffer for what is
// being decoded. It reports false when b is not valid UTF-8, which
// protobuf-go refuses in proto3 string fields.
func (d *decoder) str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	if d.inMeta {
		return d.metaText.add(b), true
	}
	return d.headerText.add(b), true
}

// bytes returns a copy of b, capped so that appending to it cannot reach a
// neighbour; nil for no bytes, as protobuf-go decodes an empty proto3 bytes
// field. Header values share the message's byte buffer; the rare Any value
// in metadata gets a copy of its own.
func (d *decoder) bytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if d.inMeta {
		c := make([]byte, len(b))
		copy(c, b)
		return c
	}
	if cap(d.raw)-len(d.raw) < len(b) {
		// The first value allocates the measured size; should a value not
		// fit (the sizes are a hint), it gets a buffer of its own.
		d.raw = make([]byte, 0, max(d.rawSize, len(b)))
		d.rawSize = 0
	}
	start := len(d.raw)
	d.raw = append(d.raw, b...)
	return d.raw[start:len(d.raw):len(d.raw)]
}
