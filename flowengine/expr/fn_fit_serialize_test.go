package expr

import "testing"

func TestFnFitSerialize(t *testing.T) {
	doc := mustXML(t, `<foo a="1&amp;&quot;"><bar>value</bar><baz/><m>t<i>x</i>u</m></foo>`)
	sc := mapScope{"doc": NodeSet{doc}, "json": NodeSet{mustJSON(t, `{"a":[1]}`).FirstChild}}
	runIn(t, sc, []fnCase{
		{"fit-serialize('s')", `"s"`},
		{"fit-serialize(1.5)", `"1.5"`},
		{"fit-serialize(true())", `"true"`},
		{"fit-serialize($undefined)", `""`},
		{"fit-serialize($doc/foo/bar)", `"<bar>value</bar>"`},
		{"fit-serialize($doc/foo)", `"<foo a=\"1&amp;&quot;\">\n  <bar>value</bar>\n  <baz/>\n  <m>t<i>x</i>u</m>\n</foo>"`},
		{"fit-serialize($doc/foo, false())", `"<foo a=\"1&amp;&quot;\"><bar>value</bar><baz/><m>t<i>x</i>u</m></foo>"`},
		{"fit-serialize($doc)", `"<?xml version=\"1.0\"?>\n<foo a=\"1&amp;&quot;\">\n  <bar>value</bar>\n  <baz/>\n  <m>t<i>x</i>u</m>\n</foo>"`},
		{"fit-serialize($doc/foo/*[1] | $doc/foo/baz)", `"<bar>value</bar>\n<baz/>"`},
		{"fit-serialize($doc/foo/@a)", `"a=\"1&amp;&quot;\""`},
		{"fit-serialize($doc/foo/bar/text())", `"value"`},
		{"fit-serialize($json)", `"<json object=\"\">\n  <a array=\"\">\n    <value number=\"\">1</value>\n  </a>\n</json>"`},
	})
}
