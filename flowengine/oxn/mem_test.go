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

// walkExpr visits every node and attribute through the XPath navigator,
// as an expression like //* or string(.) does.
var walkExpr = xpath.MustCompile(`count(//node()) + count(//@*) + string-length(string(/json))`)

// walk evaluates walkExpr over nav and returns the count it saw.
func walk(nav xpath.NodeNavigator) int {
	return int(walkExpr.Evaluate(nav).(float64))
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// parsedCost measures what the raw body, its parsed form and an XPath
// walk over it keep live, as a multiple of the body's size: the live heap
// after a collection, with everything still referenced, minus the live heap
// before the body was read. tree selects ParseTree instead of Parse.
//
// Small bodies are parsed as many times as it takes to hold about 256 KiB,
// all kept live, and the cost is the average: HeapAlloc counts the spans
// each P's allocation cache holds as allocated, so one small parse measured
// alone reads a few KiB high or low depending on GOMAXPROCS (a 1-byte
// document measured 5.8 KiB with GOMAXPROCS=8 and 1.9 KiB with 2).
func parsedCost(t testing.TB, data []byte, tree bool) float64 {
	t.Helper()
	copies := 1
	if len(data) < 256<<10 {
		copies = max(1, min((256<<10)/len(data), 1024))
	}
	before := liveHeap()
	kept := make([]any, 0, 2*copies)
	for range copies {
		raw := append([]byte(nil), data...)
		var nav xpath.NodeNavigator
		if tree {
			tr, err := ParseTree(raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			nav, kept = tr.Navigator(), append(kept, raw, tr)
		} else {
			doc, err := Parse(raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			nav, kept = dom.NewNavigator(doc), append(kept, raw, doc)
		}
		if walk(nav) == 0 {
			t.Fatal("walk saw no nodes")
		}
	}
	after := liveHeap()
	runtime.KeepAlive(kept)
	overhead := int64(cap(kept)) * 16 // the slice that keeps the copies live
	return float64(int64(after)-int64(before)-overhead) / float64(copies) / float64(len(data))
}

// TestParsedCostReport logs the live-heap ratio of both representations
// for every shape and size (go test -run ParsedCostReport -v).
func TestParsedCostReport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the report parses 12 MiB twice")
	}
	for _, shape := range []string{shapeTypical, shapeTiny, shapeDeep, shapeKeys} {
		for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
			data := jsonDoc(shape, size)
			t.Logf("%-8s %8d bytes: Parse %6.2fx  ParseTree %6.2fx", shape, len(data), parsedCost(t, data, false), parsedCost(t, data, true))
		}
	}
}

// TestParsedCostBound asserts the goal of issue #12: a 1 MiB typical JSON
// body, kept raw, parsed into a Tree and walked by XPath, holds at most
// 8 times its size live; and every shape, small or large, stays within
// ParsedCost (Parse) and TreeCost (ParseTree).
func TestParsedCostBound(t *testing.T) {
	data := jsonDoc(shapeTypical, 1<<20)
	if got := parsedCost(t, data, true); got > 8 {
		t.Errorf("typical 1 MiB: ParseTree costs %.2fx its size, want <= 8", got)
	}
	docs := [][]byte{[]byte(`1`), []byte(`[1]`), []byte(`{"a":[{}]}`)}
	for _, shape := range []string{shapeTypical, shapeTiny, shapeDeep, shapeKeys} {
		docs = append(docs, jsonDoc(shape, 1<<10), jsonDoc(shape, 256<<10))
	}
	for _, data := range docs {
		n := float64(len(data))
		if got := parsedCost(t, data, false) * n; got > float64(ParsedCost(int64(len(data)))) {
			t.Errorf("%.20q… (%d bytes): Parse costs %.0f bytes, more than ParsedCost's %d", data, len(data), got, ParsedCost(int64(len(data))))
		}
		if got := parsedCost(t, data, true) * n; got > float64(TreeCost(int64(len(data)))) {
			t.Errorf("%.20q… (%d bytes): ParseTree costs %.0f bytes, more than TreeCost's %d", data, len(data), got, TreeCost(int64(len(data))))
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

// BenchmarkParseJSONTree is BenchmarkParseJSON for ParseTree.
func BenchmarkParseJSONTree(b *testing.B) {
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
					if _, err := ParseTree(data, 0); err != nil {
						b.Fatal(err)
					}
				}
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.TotalAlloc-start)/float64(b.N)/float64(len(data)), "bytes/inputbyte")
			})
		}
	}
}

// BenchmarkXPathWalkJSON evaluates an XPath that visits every node of a
// parsed 64 KiB typical body, over both representations.
func BenchmarkXPathWalkJSON(b *testing.B) {
	data := jsonDoc(shapeTypical, 64<<10)
	doc, err := Parse(data, 0)
	if err != nil {
		b.Fatal(err)
	}
	tree, err := ParseTree(data, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("dom", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			walk(dom.NewNavigator(doc))
		}
	})
	b.Run("tree", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			walk(tree.Navigator())
		}
	})
}
