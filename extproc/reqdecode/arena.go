package reqdecode

import (
	"strings"
	"unicode/utf8"
)

// decoder holds one message's shared buffers: every string of the message
// is a substring of strs and every header or Any value a slice of raw, so
// a message costs two allocations for its text however many fields it has.
type decoder struct {
	// strsSize and rawSize are textSizes of the message: what strs and
	// raw will be asked to hold, so each is allocated once.
	strsSize, rawSize int
	// strs only grows: a string handed out is never written again (the
	// guarantee strings.Builder's String keeps).
	strs strings.Builder
	raw  []byte
}

// str returns b as a string in the message's string buffer. It reports
// false when b is not valid UTF-8, which protobuf-go refuses in proto3
// string fields.
func (d *decoder) str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	if d.strs.Cap() == 0 {
		d.strs.Grow(max(d.strsSize, len(b)))
	}
	start := d.strs.Len()
	d.strs.Write(b)
	return d.strs.String()[start:], true
}

// bytes returns a copy of b in the message's byte buffer, capped so that
// appending to it cannot reach its neighbour; nil for no bytes, as
// protobuf-go decodes an empty proto3 bytes field.
func (d *decoder) bytes(b []byte) []byte {
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
