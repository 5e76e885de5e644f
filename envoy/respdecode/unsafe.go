package respdecode

import "unsafe"

// unsafeString returns b's bytes as a string without copying; b must never
// be written again.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
