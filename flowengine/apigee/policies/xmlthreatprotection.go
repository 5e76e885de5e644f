package policies

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// XMLThreatProtection (Apigee docs: threat protection) rejects an XML payload
// whose names, structure or values exceed the configured limits.
//
// What flowproc relies on (Apigee's XMLThreatProtection policy reference
// and its runtime-error page, docs.apigee.com/api-platform/troubleshoot/
// policies/runtime/xmlthreatprotection-runtime-errors):
//   - NameLimits: Element, Attribute, NamespacePrefix,
//     ProcessingInstructionTarget (name lengths; element and attribute
//     names are measured without their prefix). StructureLimits:
//     NodeDepth (the root element is depth 1), AttributeCountPerElement
//     (xmlns declarations excluded), NamespaceCountPerElement (xmlns
//     declarations), ChildCount with includeComment, includeElement,
//     includeProcessingInstruction and includeText (all default true;
//     whitespace-only text is not a child). ValueLimits: Text, Attribute,
//     NamespaceURI, Comment, ProcessingInstructionData. An absent or
//     negative limit is not enforced; lengths are Unicode characters.
//   - Source defaults to "request"; the policy runs only when the source
//     message's Content-Type is XML (application/xml, text/xml,
//     application/*+xml) and the body is not empty.
//   - A violation is ExecutionFailed (500), "XMLThreatProtection[<p>]:
//     Execution failed. reason: XMLThreatProtection[<p>]: <what> at line
//     <l>(possibly around char <c>)", <what> as documented, e.g. "Element
//     name length exceeded (<name>), max 10 allowed, found 12" or "Node
//     depth exceeded, max 5 allowed, found 6". A malformed payload is
//     ExecutionFailed with "reason: <parser message> at line …" (Apigee:
//     "Premature end of document while parsing" for a truncated one; other
//     parser messages are Go's).
//   - Source not a message: NonMessageVariable, "XMLThreatProtection[<p>]:
//     Variable <v> does not resolve to a Message"; not in scope:
//     SourceUnavailable, "XMLThreatProtection[<p>]:: Source <s> is not
//     available". Both 500.
//   - On failure xmlattack.<p>.failed and xmlattack.failed (which bundles
//     test, devrel threat-protect) are true; the engine also sets
//     xmlthreatprotection.<p>.failed.
//
// The payload is streamed through encoding/xml's RawToken with an explicit
// element stack (no tree, no recursion). A DOCTYPE is passed over as an
// opaque directive and entities are never expanded: a reference to any
// entity but the five predefined ones is malformed, so a billion-laughs
// payload fails at its first reference.
func init() {
	engine.Register(engine.Kind{Type: "XMLThreatProtection", Prefix: xtpPrefix, New: newXMLThreat, Recyclable: true})
}

const xtpPrefix = "xmlthreatprotection"

// xtpLimits are the limits; -1 is unlimited.
type xtpLimits struct {
	element, attribute, nsPrefix, piTarget         int
	depth, attrCount, nsCount, childCount          int
	childComment, childElement, childPI, childText bool
	text, attrValue, nsURI, comment, piData        int
}

func xtpNoLimits() xtpLimits {
	return xtpLimits{-1, -1, -1, -1, -1, -1, -1, -1, true, true, true, true, -1, -1, -1, -1, -1}
}

type xmlThreat struct {
	name   string
	source string
	lim    xtpLimits
}

func newXMLThreat(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "NameLimits", "StructureLimits", "ValueLimits")...)
	xt := &xmlThreat{name: p.Name, source: "request", lim: xtpNoLimits()}
	if s := strings.TrimSpace(repChildText(root, "Source")); s != "" {
		xt.source = s
	}
	l := &xt.lim
	if n := root.Child("NameLimits"); n != nil {
		c.Unknown(n, "Element", "Attribute", "NamespacePrefix", "ProcessingInstructionTarget")
		l.element = threatLimit(c, n.Child("Element"))
		l.attribute = threatLimit(c, n.Child("Attribute"))
		l.nsPrefix = threatLimit(c, n.Child("NamespacePrefix"))
		l.piTarget = threatLimit(c, n.Child("ProcessingInstructionTarget"))
	}
	if n := root.Child("StructureLimits"); n != nil {
		c.Unknown(n, "NodeDepth", "AttributeCountPerElement", "NamespaceCountPerElement", "ChildCount")
		l.depth = threatLimit(c, n.Child("NodeDepth"))
		l.attrCount = threatLimit(c, n.Child("AttributeCountPerElement"))
		l.nsCount = threatLimit(c, n.Child("NamespaceCountPerElement"))
		if cc := n.Child("ChildCount"); cc != nil {
			l.childCount = threatLimit(c, cc)
			flag := func(name string) bool {
				v, _ := cc.Attr(name)
				return c.Bool(cc, v, true)
			}
			l.childComment = flag("includeComment")
			l.childElement = flag("includeElement")
			l.childPI = flag("includeProcessingInstruction")
			l.childText = flag("includeText")
		}
	}
	if n := root.Child("ValueLimits"); n != nil {
		c.Unknown(n, "Text", "Attribute", "NamespaceURI", "Comment", "ProcessingInstructionData")
		l.text = threatLimit(c, n.Child("Text"))
		l.attrValue = threatLimit(c, n.Child("Attribute"))
		l.nsURI = threatLimit(c, n.Child("NamespaceURI"))
		l.comment = threatLimit(c, n.Child("Comment"))
		l.piData = threatLimit(c, n.Child("ProcessingInstructionData"))
	}
	return xt
}

// xtpViolation is what the scanner found. limit is true for an exceeded
// limit, false for a malformed document.
type xtpViolation struct {
	what      string
	line, col int
	limit     bool
}

type xtpFrame struct {
	name     xml.Name
	children int
}

// xtpScan checks doc against lim; nil means doc is a well-formed document
// within the limits.
func xtpScan(doc []byte, lim xtpLimits) *xtpViolation {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	pos := func(what string, limit bool) *xtpViolation {
		line, col := d.InputPos()
		return &xtpViolation{what: what, line: line, col: col, limit: limit}
	}
	exceeded := func(what, name string, max, found int) *xtpViolation {
		if name != "" {
			what += " (" + name + ")"
		}
		return pos(fmt.Sprintf("%s, max %d allowed, found %d", what, max, found), true)
	}
	over := func(max int, s string) (int, bool) {
		if max < 0 {
			return 0, false
		}
		n := utf8.RuneCountInString(s)
		return n, n > max
	}
	var stack []xtpFrame
	rootSeen := false
	child := func(counted bool) *xtpViolation {
		if len(stack) == 0 || !counted {
			return nil
		}
		top := &stack[len(stack)-1]
		top.children++
		if lim.childCount >= 0 && top.children > lim.childCount {
			return exceeded("Children count exceeded", xtpQName(top.name), lim.childCount, top.children)
		}
		return nil
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 || !rootSeen {
				return pos("Premature end of document while parsing", false)
			}
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF") {
				return pos("Premature end of document while parsing", false)
			}
			if errors.As(err, &se) {
				return pos(se.Msg, false)
			}
			return pos(err.Error(), false)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && rootSeen {
				return pos("more than one root element", false)
			}
			rootSeen = true
			if v := child(lim.childElement); v != nil {
				return v
			}
			stack = append(stack, xtpFrame{name: t.Name})
			if lim.depth >= 0 && len(stack) > lim.depth {
				return exceeded("Node depth exceeded", "", lim.depth, len(stack))
			}
			if n, bad := over(lim.element, t.Name.Local); bad {
				return exceeded("Element name length exceeded", t.Name.Local, lim.element, n)
			}
			if n, bad := over(lim.nsPrefix, t.Name.Space); bad {
				return exceeded("Namespace prefix length exceeded", t.Name.Space, lim.nsPrefix, n)
			}
			if v := xtpAttrs(t.Attr, lim, exceeded, over); v != nil {
				return v
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return pos("element <"+xtpQName(t.Name)+"> closed but not open", false)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			s := string(t)
			blank := strings.TrimSpace(s) == ""
			if len(stack) == 0 {
				if !blank {
					return pos("text outside the root element", false)
				}
				continue
			}
			if n, bad := over(lim.text, s); bad {
				return exceeded("Text length exceeded", s, lim.text, n)
			}
			if v := child(lim.childText && !blank); v != nil {
				return v
			}
		case xml.Comment:
			if n, bad := over(lim.comment, string(t)); bad {
				return exceeded("Comment length exceeded", string(t), lim.comment, n)
			}
			if v := child(lim.childComment); v != nil {
				return v
			}
		case xml.ProcInst:
			if t.Target == "xml" {
				continue // the XML declaration
			}
			if n, bad := over(lim.piTarget, t.Target); bad {
				return exceeded("Processing Instruction target length exceeded", t.Target, lim.piTarget, n)
			}
			if n, bad := over(lim.piData, string(t.Inst)); bad {
				return exceeded("Processing Instruction data length exceeded", string(t.Inst), lim.piData, n)
			}
			if v := child(lim.childPI); v != nil {
				return v
			}
		case xml.Directive:
			// A DOCTYPE is skipped, never interpreted: entities it
			// declares stay undefined.
			if len(stack) > 0 {
				return pos("a <!...> declaration inside an element", false)
			}
		}
	}
}

// xtpAttrs checks one start tag's attributes and namespace declarations.
func xtpAttrs(attrs []xml.Attr, lim xtpLimits, exceeded func(what, name string, max, found int) *xtpViolation, over func(int, string) (int, bool)) *xtpViolation {
	nAttr, nNS := 0, 0
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			nNS++
			if lim.nsCount >= 0 && nNS > lim.nsCount {
				return exceeded("Namespace count exceeded", "", lim.nsCount, nNS)
			}
			if a.Name.Space == "xmlns" {
				if n, bad := over(lim.nsPrefix, a.Name.Local); bad {
					return exceeded("Namespace prefix length exceeded", a.Name.Local, lim.nsPrefix, n)
				}
			}
			if n, bad := over(lim.nsURI, a.Value); bad {
				return exceeded("Namespace uri length exceeded", a.Value, lim.nsURI, n)
			}
			continue
		}
		nAttr++
		if lim.attrCount >= 0 && nAttr > lim.attrCount {
			return exceeded("Attribute count exceeded", "", lim.attrCount, nAttr)
		}
		if n, bad := over(lim.attribute, a.Name.Local); bad {
			return exceeded("Attribute name length exceeded", a.Name.Local, lim.attribute, n)
		}
		if n, bad := over(lim.nsPrefix, a.Name.Space); bad {
			return exceeded("Namespace prefix length exceeded", a.Name.Space, lim.nsPrefix, n)
		}
		if n, bad := over(lim.attrValue, a.Value); bad {
			return exceeded("Attribute value length exceeded", a.Value, lim.attrValue, n)
		}
	}
	return nil
}

func xtpQName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func (xt *xmlThreat) fail(r *engine.Run, f *engine.Fault) *engine.Fault {
	_ = r.Set("xmlattack."+xt.name+".failed", true)
	_ = r.Set("xmlattack.failed", true)
	return f
}

// Execute implements engine.Policy.
func (xt *xmlThreat) Execute(r *engine.Run) error {
	m, ok := r.Message(xt.source)
	if !ok || m == nil {
		if v, found := r.Lookup(xt.source); found && v != nil {
			return xt.fail(r, engine.NewFault(xtpPrefix, "NonMessageVariable", 500, "XMLThreatProtection[%s]: Variable %s does not resolve to a Message", xt.name, xt.source))
		}
		return xt.fail(r, engine.NewFault(xtpPrefix, "SourceUnavailable", 500, "XMLThreatProtection[%s]:: Source %s is not available", xt.name, xt.source))
	}
	ct, _ := m.Header("content-type")
	if !contentTypeIs(ct, "xml") {
		return nil
	}
	body, err := m.Content()
	if err != nil {
		return fmt.Errorf("XMLThreatProtection %s: reading the payload: %w", xt.name, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	v := xtpScan(body, xt.lim)
	if v == nil {
		return nil
	}
	inner := ""
	if v.limit {
		inner = "XMLThreatProtection[" + xt.name + "]: "
	}
	return xt.fail(r, engine.NewFault(xtpPrefix, "ExecutionFailed", 500, "XMLThreatProtection[%s]: Execution failed. reason: %s%s at line %d(possibly around char %d)", xt.name, inner, v.what, v.line, v.col))
}
