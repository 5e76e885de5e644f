package reqdecode

import (
	"strings"
	"unicode/utf8"
)

// decoder holds one message's shared buffers, so that a message costs a
// few allocations for its text however many fields it has: header names
// and values are substrings of headerText and raw header values slices of
// raw, each sized exactly beforehand; the strings of metadata (and of the
// deprecated attributes inside HttpHeaders) are substrings of metaText.
// Keeping a header (flowproc keeps a request's headers for its exchange)
// therefore pins only header text, never a large metadata or attributes
// field.
type decoder struct {
	headerText, metaText textBuf
	// rawSize is what raw will be asked to hold (textSizes).
	rawSize int
	raw     []byte
	// attrs is the attributes field as it came, tags included, sized
	// exactly beforehand (textSizes): the message keeps it (attributes.go).
	attrs []byte
}

// textBuf is a string buffer that only grows: a string handed out is never
// written again (the guarantee strings.Builder's String keeps).
type textBuf struct {
	// size is what the buffer will be asked to hold, at most (textSizes).
	size int
	b    strings.Builder
}

// str returns b as a string in t. It reports false when b is not valid
// UTF-8, which protobuf-go refuses in proto3 string fields.
func (t *textBuf) str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	if t.b.Cap() == 0 {
		t.b.Grow(max(t.size, len(b)))
	}
	start := t.b.Len()
	t.b.Write(b)
	return t.b.String()[start:], true
}

// rawValue returns a copy of a header's raw value in the message's byte
// buffer, capped so that appending to it cannot reach its neighbour; nil
// for no bytes, as protobuf-go decodes an empty proto3 bytes field.
func (d *decoder) rawValue(b []byte) []byte {
	if len(b) == 0 {
		return nil
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

// copyBytes returns an exactly sized copy of b (a body, an Any's value);
// nil for no bytes, as protobuf-go decodes an empty proto3 bytes field.
func copyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
