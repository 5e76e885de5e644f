package policies

import (
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/jsonxml"
)

// JSONToXML converts a JSON message or string to XML (Apigee docs: JSONToXML, XMLToJSON and XSL) with the <Options> of package jsonxml. Source, output and faults:
// see conversion; fault codes are steps.json2xml.*, the failed flag
// jsontoxml.<policy>.failed.
func init() {
	engine.Register(engine.Kind{Type: "JSONToXML", Prefix: "jsontoxml", New: newJSONToXML, Recyclable: true})
}

func newJSONToXML(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "OutputVariable", "Options")...)
	var o jsonxml.JSONOptions
	if opts := root.Child("Options"); opts != nil {
		c.Unknown(opts, "NullValue", "NamespaceBlockName", "DefaultNamespaceNodeName", "NamespaceSeparator", "TextNodeName",
			"AttributeBlockName", "AttributePrefix", "InvalidCharsReplacement", "ObjectRootElementName",
			"ArrayRootElementName", "ArrayItemElementName", "OmitXmlDeclaration", "Indent")
		for _, n := range opts.Children {
			switch n.Name {
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
			case "InvalidCharsReplacement":
				o.InvalidCharsReplacement = n.Text
			case "ObjectRootElementName":
				o.ObjectRootElementName = n.Text
			case "ArrayRootElementName":
				o.ArrayRootElementName = n.Text
			case "ArrayItemElementName":
				o.ArrayItemElementName = n.Text
			case "OmitXmlDeclaration":
				o.OmitXMLDeclaration = c.Bool(n, n.Text, false)
			case "Indent":
				o.Indent = c.Bool(n, n.Text, false)
			}
		}
	}
	o = o.WithDefaults()
	cv := &conversion{typ: "JSONToXML", prefix: "json2xml", policy: p.Name, inKind: "json", outCT: "application/xml",
		failedFmt: "Execution failed due to reason: %v",
		convert:   func(in []byte, limit int64) ([]byte, error) { return jsonxml.JSONToXML(in, &o, limit) }}
	compileSourceOutput(cv, textOf(root.Child("Source")), textOf(root.Child("OutputVariable")))
	return &jsonToXML{cv}
}

type jsonToXML struct{ cv *conversion }

// Execute implements engine.Policy.
func (j *jsonToXML) Execute(r *engine.Run) error { return j.cv.run(r) }
