package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnJSONPath(t *testing.T) {
	v := flowvar.Map{
		"doc": `{"store": {"book": [
			{"title": "Go", "price": 10, "tags": ["a", "b"]},
			{"title": "JSON", "price": 2.50, "isbn": "x-1"}
		], "bicycle": {"color": "red", "price": 19.95}, "z": 1, "a": null}}`,
		"p":   "$.store.bicycle.color",
		"bad": "{",
	}
	runFnCases(t, []fnCase{
		{tmpl: "{jsonPath($.store.book[0].title,doc)}", vars: v, want: "Go"},
		{tmpl: "{jsonPath('$.store.book[-1].price',doc)}", vars: v, want: "2.50"},
		{tmpl: "{jsonPath($['store']['bicycle'],doc)}", vars: v, want: `{"color":"red","price":19.95}`},
		{tmpl: "{jsonPath(p,doc)}", vars: v, want: "red"},
		{tmpl: "{jsonPath($.store.book[0].tags,doc)}", vars: v, want: `["a","b"]`},
		{tmpl: "{jsonPath($.store.book[*].title,doc)}", vars: v, want: `["Go","JSON"]`},
		{tmpl: "{jsonPath('$.store.book.[*].title',doc)}", vars: v, want: `["Go","JSON"]`},
		{tmpl: "{jsonPath($..price,doc)}", vars: v, want: `[10,2.50,19.95]`},
		{tmpl: "{jsonPath($.store.*,doc)}", vars: v, want: `[[{"title":"Go","price":10,"tags":["a","b"]},{"title":"JSON","price":2.50,"isbn":"x-1"}],{"color":"red","price":19.95},1,null]`},
		{tmpl: "{jsonPath($.store.book[0,1].title,doc)}", vars: v, want: `["Go","JSON"]`},
		{tmpl: "{jsonPath($.store.book[:1].title,doc)}", vars: v, want: `["Go"]`},
		{tmpl: "{jsonPath($.store.book[0].title,doc,true)}", vars: v, want: `["Go"]`},
		{tmpl: "{jsonPath($.store.book[0].title,doc,'true')}", vars: v, want: `["Go"]`},
		{tmpl: "{jsonPath($.store.z,doc)}", vars: v, want: "1"},
		{tmpl: "{jsonPath($.store.a,doc)}", vars: v, want: ""},
		{tmpl: "{jsonPath($.nope,doc)}", vars: v, want: ""},
		{tmpl: "{jsonPath($..nope,doc)}", vars: v, want: "[]"},
		{tmpl: "{jsonPath($.store.book[5],doc)}", vars: v, want: ""},
		{tmpl: "{jsonPath($.x,missing)}", vars: v, want: ""},
		{tmpl: "{jsonPath($.x,bad)}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{jsonPath('$.store.book[?(@.price < 5)]',doc)}", vars: v, err: CodeBadArgument},
		{tmpl: "{jsonPath(store.book,doc)}", vars: v, want: ""}, // store.book is a (missing) variable
		{tmpl: "{jsonPath('store.book',doc)}", vars: v, err: CodeBadArgument},
		{tmpl: "{jsonPath('$.a[',doc)}", vars: v, err: CodeBadArgument},
		{tmpl: "{jsonPath(q,doc)}", vars: flowvar.Map{"q": "$[(@.length-1)]", "doc": "[]"}, err: CodeFunctionFailed},
		{tmpl: "{jsonPath($.a)}", err: CodeArity},
	})
}
