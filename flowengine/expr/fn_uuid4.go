package expr

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// uuid4() returns a random (version 4, RFC 4122) UUID in its canonical
// lower-case 8-4-4-4-12 form.
func init() {
	Register(&Func{Name: "uuid4", MinArgs: 0, MaxArgs: 0, Call: func(*Context, []Value) (Value, error) {
		return newUUID4()
	}})
}

func newUUID4() (Value, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:]), nil
}
