package expr

import (
	"errors"
	"strings"

	"golang.org/x/net/html"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// html-parse(html) parses its argument's string as an HTML5 document (the
// WHATWG algorithm of golang.org/x/net/html, so any input gives a
// document with html, head and body) and returns the document node.
// Element and attribute names are lower case; namespaced elements (svg,
// math) keep their local names; comments and the doctype are dropped.
// Elements nested deeper than dom.DefaultMaxDepth give a warning and an
// empty node-set. The input size is charged to the run's decoded budget.
func init() {
	Register(&Func{Name: "html-parse", MinArgs: 1, MaxArgs: 1, Call: htmlParse})
}

func htmlParse(c *Context, args []Value) (Value, error) {
	s := String(args[0])
	if err := c.Budget.Decoded(int64(len(s))); err != nil {
		return nil, err
	}
	doc, err := parseHTML(s)
	if err != nil {
		warn(c, "html-parse", err.Error())
		return NodeSet(nil), nil
	}
	return NodeSet{doc}, nil
}

var errHTMLTooDeep = errors.New("html-parse: elements nested too deep")

// parseHTML parses s and converts the tree to dom nodes.
func parseHTML(s string) (*dom.Node, error) {
	h, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return nil, err
	}
	doc := dom.NewDocument()
	if err := convertHTML(doc, h, 0); err != nil {
		return nil, err
	}
	return doc, nil
}

func convertHTML(dst *dom.Node, src *html.Node, depth int) error {
	if depth > dom.DefaultMaxDepth {
		return errHTMLTooDeep
	}
	for c := src.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.ElementNode:
			el := dom.NewElement(c.Data)
			for _, a := range c.Attr {
				el.SetAttr(a.Key, a.Val)
			}
			dst.AppendChild(el)
			if err := convertHTML(el, c, depth+1); err != nil {
				return err
			}
		case html.TextNode:
			if l := dst.LastChild; l != nil && l.Type == dom.TextNode {
				l.Data += c.Data
				continue
			}
			dst.AppendChild(dom.NewText(c.Data))
		}
	}
	return nil
}
