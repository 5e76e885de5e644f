package msgtemplate

import (
	"io"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

var benchVars = flowvar.Map{"user.name": "jdoe", "request.header.origin": "https://a.example", "n": 42}

// BenchmarkAppend: a typical JSON payload with three references, into a
// reused buffer.
func BenchmarkAppend(b *testing.B) {
	tp := MustParse(`{"user":"{user.name}","origin":"{request.header.origin:*}","count":{n}}`)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = tp.Append(buf[:0], benchVars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecute(b *testing.B) {
	tp := MustParse(`{"user":"{user.name}","origin":"{request.header.origin:*}","count":{n}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := tp.Execute(io.Discard, benchVars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFunction(b *testing.B) {
	tp := MustParse(`{toUpperCase(user.name)}:{sha256Hex(user.name)}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := tp.Execute(io.Discard, benchVars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`{"user":"{user.name}","origin":"{request.header.origin:*}","count":{n}}`, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendDoesNotAllocate pins allocation-free rendering of variable
// references into a buffer with room.
func TestAppendDoesNotAllocate(t *testing.T) {
	tp := MustParse(`{"user":"{user.name}","origin":"{request.header.origin:*}","count":{n}}`)
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf, _, _ = tp.Append(buf[:0], benchVars) }); n != 0 {
		t.Errorf("%v allocs per Append, want 0", n)
	}
}
