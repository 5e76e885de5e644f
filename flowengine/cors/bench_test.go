package cors

import "testing"

// BenchmarkDecide measures the per-request cost: a preflight and an
// ordinary request from an allowed origin.
func BenchmarkDecide(b *testing.B) {
	d, ext := load(b, testDef)
	p, err := Compile(ext, nil)
	if err != nil {
		b.Fatal(err)
	}
	pre := Request{Method: "OPTIONS", Origin: "http://localhost:3000", RequestMethod: "DELETE"}
	get := Request{Method: "GET", Origin: "http://localhost:3000"}
	mPre, mGet := d.Match("OPTIONS", "/v1/items"), d.Match("GET", "/v1/items")
	b.Run("preflight", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = p.Decide(pre, mPre)
		}
	})
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = p.Decide(get, mGet)
		}
	})
}
