package oxn

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// Document shapes for the memory measurements.
const (
	shapeTypical = "typical" // an API response: an object with an array of records of short strings and numbers
	shapeTiny    = "tiny"    // an array of one-digit numbers: the most nodes per input byte
	shapeDeep    = "deep"    // arrays nested as deep as the default limit allows, repeated
	shapeKeys    = "keys"    // an object of many members with keys that are not XML names
)

// jsonDoc returns a JSON document of the given shape, about size bytes.
func jsonDoc(shape string, size int) []byte {
	var b strings.Builder
	b.Grow(size + 256)
	switch shape {
	case shapeTypical:
		b.WriteString(`{"id":"req-1","status":"ok","items":[`)
		for i := 0; b.Len() < size-40; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"name":"item %d","price":%d.5,"tags":["a","b"],"ok":true,"owner":{"id":%d,"email":"u%d@example.com"}}`, i, i, i*3, i%97, i%97)
		}
		b.WriteString(`],"total":3}`)
	case shapeTiny:
		b.WriteString(`[0`)
		for b.Len() < size-1 {
			b.WriteString(`,1`)
		}
		b.WriteString(`]`)
	case shapeDeep:
		b.WriteString(`[`)
		for i := 0; i == 0 || b.Len() < size-1100; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Repeat(`[`, 500))
			b.WriteString(strings.Repeat(`]`, 500))
		}
		b.WriteString(`]`)
	case shapeKeys:
		b.WriteString(`{`)
		for i := 0; b.Len() < size-20; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%d k":%d`, i, i%10)
		}
		b.WriteString(`}`)
	}
	return []byte(b.String())
}

// walk visits every node and attribute of doc through the XPath
// navigator, as an expression like //* or string(.) does, and returns how
// many it saw.
func walk(doc *dom.Node) int {
	expr := xpath.MustCompile(`count(//node()) + count(//@*)`)
	return int(expr.Evaluate(dom.NewNavigator(doc)).(float64))
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// parsedCost measures what the raw body, its parsed tree and an XPath walk
// over it keep live, as a multiple of the body's size.
func parsedCost(t testing.TB, data []byte) float64 {
	t.Helper()
	before := liveHeap()
	raw := append([]byte(nil), data...)
	doc, err := Parse(raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if walk(doc) == 0 {
		t.Fatal("walk saw no nodes")
	}
	after := liveHeap()
	runtime.KeepAlive(raw)
	runtime.KeepAlive(doc)
	return float64(after-before) / float64(len(data))
}

func TestParsedCostReport(t *testing.T) {
	for _, shape := range []string{shapeTypical, shapeTiny, shapeDeep, shapeKeys} {
		for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
			data := jsonDoc(shape, size)
			t.Logf("%s %d: %.2f", shape, size, parsedCost(t, data))
		}
	}
}

func BenchmarkParseJSON(b *testing.B) {
	for _, shape := range []string{shapeTypical, shapeTiny, shapeDeep, shapeKeys} {
		for _, size := range []struct {
			name string
			n    int
		}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}} {
			data := jsonDoc(shape, size.n)
			b.Run(shape+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				start := ms.TotalAlloc
				for i := 0; i < b.N; i++ {
					if _, err := Parse(data, 0); err != nil {
						b.Fatal(err)
					}
				}
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.TotalAlloc-start)/float64(b.N)/float64(len(data)), "bytes/inputbyte")
			})
		}
	}
}
