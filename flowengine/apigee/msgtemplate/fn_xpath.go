package msgtemplate

import (
	"errors"
	"strconv"
	"sync"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// xPath(expression, xml [, namespace…]) (also spelled xpath): evaluates an
// XPath 1.0 expression against the XML text in the second argument. A
// node-set renders the string value of its first node (none: ""); numbers
// render as XPath's string() does (2, 2.5, NaN), booleans as true/false
// [inferred: the Apigee reference shows node-set use only].
//
// flowproc's XML tree (flowengine/dom) drops namespaces, so namespace
// arguments and prefixed names (ns:a) are refused at load (MT005) rather
// than matched by local name. Malformed XML fails (MT101). A literal
// expression is compiled at load; antchfx/xpath expressions keep state
// while evaluating, so each call takes a compiled copy from a pool.
func init() {
	f := &function{min: 2, max: -1, prepare: prepareXPath, call: callXPath}
	register("xPath", f)
	register("xpath", f)
}

type xpathState struct {
	src  string
	pool sync.Pool
}

func prepareXPath(args []arg) (any, error) {
	if len(args) > 2 {
		return nil, errors.New("namespace arguments are not supported (flowproc's XML tree has no namespaces)")
	}
	if args[0].isVar || args[0].null {
		return nil, nil
	}
	x, err := compileXPath(args[0].lit)
	if err != nil {
		return nil, err
	}
	st := &xpathState{src: args[0].lit}
	st.pool.Put(x)
	return st, nil
}

func compileXPath(src string) (*xpath.Expr, error) {
	if hasPrefixedName(src) {
		return nil, errors.New("XPath " + strconv.Quote(src) + " uses a namespace prefix, which is not supported (flowproc's XML tree has no namespaces)")
	}
	x, err := xpath.Compile(src)
	if err != nil {
		return nil, errors.New("XPath " + strconv.Quote(src) + " does not compile: " + err.Error())
	}
	return x, nil
}

// hasPrefixedName reports a single ":" outside string literals (a QName
// prefix); "::" is an axis.
func hasPrefixedName(s string) bool {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ':':
			if i+1 < len(s) && s[i+1] == ':' {
				i++
				continue
			}
			return true
		}
	}
	return false
}

func callXPath(st any, a []value) (string, error) {
	var x *xpath.Expr
	s, _ := st.(*xpathState)
	if s != nil {
		x, _ = s.pool.Get().(*xpath.Expr)
		if x == nil {
			var err error
			if x, err = compileXPath(s.src); err != nil {
				return "", err
			}
		}
		defer s.pool.Put(x)
	} else {
		var err error
		if x, err = compileXPath(a[0].str()); err != nil {
			return "", err
		}
	}
	if a[1].null {
		return "", nil
	}
	doc, err := dom.ParseXML([]byte(a[1].s), 0)
	if err != nil {
		return "", errors.New("XML source does not parse: " + err.Error())
	}
	switch r := x.Evaluate(dom.NewNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		if r.MoveNext() {
			return r.Current().Value(), nil
		}
		return "", nil
	case string:
		return r, nil
	case bool:
		return strconv.FormatBool(r), nil
	case float64:
		return expr.FormatNumber(r), nil
	}
	return "", nil
}
