package expr

import (
	"crypto/rand"
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
	return formatUUID(u), nil
}
