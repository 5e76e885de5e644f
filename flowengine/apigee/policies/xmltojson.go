package policies

import (
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/jsonxml"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// XMLToJSON converts an XML message or string to JSON (Apigee docs: JSONToXML, XMLToJSON and XSL) with the options of package jsonxml, given in <Options> or as a
// <Format> preset (xml.com, yahoo, google, badgerFish). Source, output and
// faults: see conversion; fault codes are steps.xml2json.*, the failed
// flag xmltojson.<policy>.failed.
func init() {
	engine.Register(engine.Kind{Type: "XMLToJSON", Prefix: "xmltojson", New: newXMLToJSON, Recyclable: true})
}

func newXMLToJSON(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "OutputVariable", "Options", "Format")...)
	var o jsonxml.XMLOptions
	opts, format := root.Child("Options"), root.Child("Format")
	if format != nil {
		if opts != nil && len(opts.Children) > 0 {
			c.Errorf(format, diag.APBadPolicy, "XMLToJSON %s: <Format> and <Options> exclude each other", p.Name)
			return nil
		}
		var ok bool
		if o, ok = jsonxml.XMLFormat(strings.TrimSpace(format.Text)); !ok {
			c.Errorf(format, diag.APBadPolicy, "XMLToJSON %s: unknown <Format> %q (want xml.com, yahoo, google or badgerFish)", p.Name, format.Text)
			return nil
		}
	}
	if opts != nil {
		c.Unknown(opts, "RecognizeNumber", "RecognizeBoolean", "RecognizeNull", "NullValue", "NamespaceBlockName",
			"DefaultNamespaceNodeName", "NamespaceSeparator", "TextAlwaysAsProperty", "TextNodeName", "AttributeBlockName",
			"AttributePrefix", "OutputPrefix", "OutputSuffix", "StripLevels", "TreatAsArray", "Indent")
		for _, n := range opts.Children {
			switch n.Name {
			case "RecognizeNumber":
				o.RecognizeNumber = c.Bool(n, n.Text, false)
			case "RecognizeBoolean":
				o.RecognizeBoolean = c.Bool(n, n.Text, false)
			case "RecognizeNull":
				o.RecognizeNull = c.Bool(n, n.Text, false)
			case "TextAlwaysAsProperty":
				o.TextAlwaysAsProperty = c.Bool(n, n.Text, false)
			case "Indent":
				o.Indent = c.Bool(n, n.Text, false)
			case "NullValue":
				o.NullValue = n.Text
			case "NamespaceBlockName":
				o.NamespaceBlockName = n.Text
			case "DefaultNamespaceNodeName":
				o.DefaultNamespaceNodeName = n.Text
			case "NamespaceSeparator":
				o.NamespaceSeparator = n.Text
			case "TextNodeName":
				o.TextNodeName = n.Text
			case "AttributeBlockName":
				o.AttributeBlockName = n.Text
			case "AttributePrefix":
				o.AttributePrefix = n.Text
			case "OutputPrefix":
				o.OutputPrefix = n.Text
			case "OutputSuffix":
				o.OutputSuffix = n.Text
			case "StripLevels":
				k, err := strconv.Atoi(strings.TrimSpace(n.Text))
				if err != nil || k < 0 {
					c.Errorf(n, diag.APBadPolicy, "<StripLevels> %q is not a non-negative number", n.Text)
					continue
				}
				o.StripLevels = k
			case "TreatAsArray":
				c.Unknown(n, "Path")
				for _, pn := range n.Children {
					if pn.Name != "Path" {
						continue
					}
					u, _ := pn.Attr("unwrap")
					ap, err := jsonxml.ParseArrayPath(pn.Text, c.Bool(pn, u, false))
					if err != nil {
						c.Errorf(pn, diag.APBadPolicy, "<TreatAsArray><Path>: %v", err)
						continue
					}
					o.TreatAsArray = append(o.TreatAsArray, ap)
				}
			}
		}
	}
	cv := &conversion{typ: "XMLToJSON", prefix: "xml2json", policy: p.Name, inKind: "xml", outCT: "application/json",
		failedFmt: "Execution failed. reason: %v",
		convert:   func(in []byte, limit int64) ([]byte, error) { return jsonxml.XMLToJSON(in, &o, limit) }}
	compileSourceOutput(cv, textOf(root.Child("Source")), textOf(root.Child("OutputVariable")))
	return &xmlToJSON{cv}
}

type xmlToJSON struct{ cv *conversion }

// Execute implements engine.Policy.
func (x *xmlToJSON) Execute(r *engine.Run) error { return x.cv.run(r) }

func textOf(n *bundle.Node) string {
	if n == nil {
		return ""
	}
	return n.Text
}
