package jsonxml

import (
	"strings"
	"testing"
)

var benchN = 20000

func BenchmarkXMLToJSON(b *testing.B) {
	in := []byte("<a>" + strings.Repeat(`<b id="1">x</b><c>2</c>`, benchN) + "</a>")
	o := XMLOptions{RecognizeNumber: true, AttributePrefix: "@", TextNodeName: "#text"}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := XMLToJSON(in, &o, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONToXML(b *testing.B) {
	in := []byte(`{"a":[` + strings.Repeat(`{"@id":1,"b":"x","c":[1,2,null]},`, benchN) + `{}]}`)
	o := JSONOptions{AttributePrefix: "@"}.WithDefaults()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := JSONToXML(in, &o, 0); err != nil {
			b.Fatal(err)
		}
	}
}
