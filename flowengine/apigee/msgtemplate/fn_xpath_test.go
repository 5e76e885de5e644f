package msgtemplate

import (
	"sync"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnXPath(t *testing.T) {
	v := flowvar.Map{
		"doc":  `<books><book id="1"><title>Go</title><price>10</price></book><book id="2"><title>XML</title><price>2.5</price></book></books>`,
		"expr": "/books/book[2]/title",
		"bad":  "<a>",
	}
	runFnCases(t, []fnCase{
		{tmpl: "{xPath(/books/book/title,doc)}", vars: v, want: "Go"},
		{tmpl: "{xpath('/books/book[@id=2]/title',doc)}", vars: v, want: "XML"},
		{tmpl: "{xPath(expr,doc)}", vars: v, want: "XML"},
		{tmpl: "{xPath(count(/books/book),doc)}", vars: v, want: "2"},
		{tmpl: "{xPath(sum(//price),doc)}", vars: v, want: "12.5"},
		{tmpl: "{xPath(//book/@id,doc)}", vars: v, want: "1"},
		{tmpl: "{xPath(boolean(//nope),doc)}", vars: v, want: "false"},
		{tmpl: "{xPath(//nope,doc)}", vars: v, want: ""},
		{tmpl: "{xPath(child::books/child::book/title,doc)}", vars: v, want: "Go"},
		{tmpl: "{xPath('//a[. = \"x:y\"]',doc)}", vars: v, want: ""},
		{tmpl: "{xPath(/a,missing)}", vars: v, want: ""},
		{tmpl: "{xPath(/a,bad)}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{xPath(/ns:a,doc)}", vars: v, err: CodeBadArgument},
		{tmpl: "{xPath(/a,doc,'ns:urn:x')}", vars: v, err: CodeBadArgument},
		{tmpl: "{xPath('/a[',doc)}", vars: v, err: CodeBadArgument},
		{tmpl: "{xPath(p,doc)}", vars: flowvar.Map{"p": "/a[", "doc": "<a/>"}, err: CodeFunctionFailed},
		{tmpl: "{xPath(/a)}", err: CodeArity},
	})
}

// TestFnXPathConcurrent: one compiled template evaluated from many
// goroutines (run with -race).
func TestFnXPathConcurrent(t *testing.T) {
	tp := MustParse("{xPath(/r/v,doc)}")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				want := string(rune('a' + i))
				got, _, err := tp.String(flowvar.Map{"doc": "<r><v>" + want + "</v></r>"})
				if err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
