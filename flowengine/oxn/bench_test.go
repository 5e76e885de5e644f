package oxn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// body4K returns a JSON object of about 4 KiB with an items array.
func body4K() []byte {
	var b strings.Builder
	b.WriteString(`{"id":"req-1","items":[`)
	for i := 0; b.Len() < 4000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item number %d","price":%d.5,"tags":["a","b"],"ok":true}`, i, i, i*3)
	}
	b.WriteString(`],"total":3}`)
	return []byte(b.String())
}

func BenchmarkParse4K(b *testing.B) {
	data := body4K()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibUnmarshal4K is encoding/json into any, for comparison.
func BenchmarkStdlibUnmarshal4K(b *testing.B) {
	data := body4K()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite4K(b *testing.B) {
	data := body4K()
	doc, err := Parse(data, 0)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := Write(&buf, doc); err != nil {
			b.Fatal(err)
		}
	}
}
