package loadgen

import (
	"bytes"
	"fmt"
)

// JSONBody returns a JSON document of exactly size bytes (at least the 12
// bytes of {"items":[]}) shaped like the example project's echo input:
// {"items":[{"name":"item-0001","price":1},…]} with as many items as fit,
// padded with trailing spaces (JSON whitespace). size ≤ 0 returns nil.
func JSONBody(size int) []byte {
	if size <= 0 {
		return nil
	}
	const open, closing = `{"items":[`, `]}`
	var b bytes.Buffer
	b.Grow(max(size, len(open)+len(closing)))
	b.WriteString(open)
	for i := 1; ; i++ {
		item := fmt.Sprintf(`{"name":"item-%04d","price":%d}`, i, i%10+1)
		if i > 1 {
			item = "," + item
		}
		if b.Len()+len(item)+len(closing) > size {
			break
		}
		b.WriteString(item)
	}
	b.WriteString(closing)
	for b.Len() < size {
		b.WriteByte(' ')
	}
	return b.Bytes()
}
