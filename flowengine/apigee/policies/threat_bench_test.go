package policies

import (
	"strconv"
	"strings"
	"testing"
)

// tpBigJSON is a ~1 MB JSON document of small objects.
func tpBigJSON() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":` + strconv.Itoa(i) + `,"name":"item number ` + strconv.Itoa(i) + `","tags":["a","b"],"ok":true}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// tpBigXML is a ~1 MB XML document of small elements.
func tpBigXML() []byte {
	var b strings.Builder
	b.WriteString(`<items xmlns:p="urn:p">`)
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(`<p:item id="` + strconv.Itoa(i) + `"><name>item number ` + strconv.Itoa(i) + `</name><!--c--></p:item>`)
	}
	b.WriteString(`</items>`)
	return []byte(b.String())
}

func BenchmarkJSONThreatScan(b *testing.B) {
	doc := tpBigJSON()
	lim := jtpLimits{depth: 10, objectEntries: 20, arrayElements: -1, nameLength: 50, stringLength: 500}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if v := jtpScan(doc, lim); v != nil {
			b.Fatal(v.what)
		}
	}
}

func BenchmarkXMLThreatScan(b *testing.B) {
	doc := tpBigXML()
	lim := xtpNoLimits()
	lim.depth, lim.element, lim.text, lim.attrCount = 10, 20, 100, 5
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if v := xtpScan(doc, lim); v != nil {
			b.Fatal(v.what)
		}
	}
}
