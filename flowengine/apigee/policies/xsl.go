package policies

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xslt"
)

// XSL transforms a message's XML content with an XSLT 1.0 stylesheet from
// the bundle (<ResourceURL>xsl://file.xsl</ResourceURL>), run by libxslt
// through package flowengine/xslt — the engine FLAT's <xslt> action uses.
// libxslt needs cgo: flowproc built without the "xslt" build tag cannot
// load a bundle with an XSL policy (AP400, as FLAT's FP202).
//
// Relied on [Apigee's XSL policy reference; fault strings from the error
// table of SAP API Management's XSL Transform page, an Apigee Edge
// derivative]:
//   - Source (default "message") must be a message in scope, else
//     steps.xsl.XSLSourceMessageNotAvailable, "<source> message is not
//     available for XSL: <policy>".
//   - ResourceURL must be xsl://<file> of the bundle (load error
//     otherwise).
//   - <Parameters ignoreUnresolvedVariables="…"><Parameter name="p"
//     ref="var"/> or value="literal"> become global xsl:params (strings). An
//     unresolved ref is steps.xsl.XSLVariableResolutionFailed, "Failed to
//     resolve variable <var>", unless ignoreUnresolvedVariables="true",
//     when the parameter is left out.
//   - OutputVariable receives the result as a string and may not name a
//     message (message, request, response, error: load error); without one
//     the result replaces the source message's content.
//   - A failing transformation (malformed input included) is
//     steps.xsl.XSLEvaluationFailed, "Evaluation of XSL <file> failed with
//     reason: "<reason>"". Input with a DOCTYPE is refused the same way so
//     that entities are never expanded. All faults have status 500.
func init() {
	engine.Register(engine.Kind{Type: "XSL", Prefix: "xsl", New: newXSL, Recyclable: true})
}

type xslParam struct {
	name, ref string
	literal   string
}

type xslPolicy struct {
	name, file     string
	source, output string
	style          *xslt.Stylesheet
	params         []xslParam
	ignore         bool
}

func newXSL(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "ResourceURL", "Parameters", "OutputVariable")...)
	x := &xslPolicy{name: p.Name, source: strings.TrimSpace(textOf(root.Child("Source"))), output: strings.TrimSpace(textOf(root.Child("OutputVariable")))}
	if x.source == "" {
		x.source = "message"
	}
	ru := root.Child("ResourceURL")
	if ru == nil || strings.TrimSpace(ru.Text) == "" {
		c.Errorf(root, diag.APMissingElement, "XSL %s needs a <ResourceURL>xsl://file.xsl</ResourceURL>", p.Name)
		return nil
	}
	if scheme, _, _ := strings.Cut(strings.TrimSpace(ru.Text), "://"); scheme != "xsl" {
		c.Errorf(ru, diag.APBadPolicy, "XSL %s: resource type must be xsl (%q)", p.Name, ru.Text)
		return nil
	}
	if isMessageName(x.output) {
		c.Errorf(root.Child("OutputVariable"), diag.APBadPolicy, "XSL %s: <OutputVariable> cannot be the message %q; leave it out to replace the message content", p.Name, x.output)
		return nil
	}
	if !xslt.Available() {
		c.Errorf(root, diag.APUnsupportedPolicy, "XSL %s: %v", p.Name, xslt.ErrUnavailable)
		return nil
	}
	src, ok := c.Resource(ru, ru.Text)
	if !ok {
		return nil
	}
	_, x.file, _ = strings.Cut(strings.TrimSpace(ru.Text), "://")
	style, err := xslt.Compile(x.file, src)
	if err != nil {
		c.Errorf(ru, diag.APBadPolicy, "XSL %s: stylesheet %s: %v", p.Name, x.file, err)
		return nil
	}
	x.style = style
	if ps := root.Child("Parameters"); ps != nil {
		ig, _ := ps.Attr("ignoreUnresolvedVariables")
		x.ignore = c.Bool(ps, ig, false)
		c.Unknown(ps, "Parameter")
		for _, pn := range ps.Children {
			if pn.Name != "Parameter" {
				continue
			}
			name, _ := pn.Attr("name")
			ref, hasRef := pn.Attr("ref")
			val, hasVal := pn.Attr("value")
			if strings.TrimSpace(name) == "" || hasRef == hasVal {
				c.Errorf(pn, diag.APBadPolicy, "<Parameter> needs a name and exactly one of ref= and value=")
				continue
			}
			x.params = append(x.params, xslParam{name: name, ref: strings.TrimSpace(ref), literal: val})
		}
	}
	return x
}

// Execute implements engine.Policy.
func (x *xslPolicy) Execute(r *engine.Run) error {
	m, ok := r.Message(x.source)
	if !ok || m == nil {
		return engine.NewFault("xsl", "XSLSourceMessageNotAvailable", 500, "%s message is not available for XSL: %s", x.source, x.name)
	}
	in, err := m.Content()
	if err != nil {
		return fmt.Errorf("XSL %s: reading %s: %w", x.name, x.source, err)
	}
	failed := func(reason string, cause error) error {
		f := engine.NewFault("xsl", "XSLEvaluationFailed", 500, "Evaluation of XSL %s failed with reason: %q", x.file, reason)
		f.Err = cause
		return f
	}
	if bytes.Contains(in, []byte("<!DOCTYPE")) || bytes.Contains(in, []byte("<!ENTITY")) {
		return failed("DOCTYPE is not allowed", nil)
	}
	params := make([]string, 0, 2*len(x.params))
	for _, p := range x.params {
		v := p.literal
		if p.ref != "" {
			s, ok := r.Get(p.ref)
			if !ok {
				if x.ignore {
					continue
				}
				return engine.NewFault("xsl", "XSLVariableResolutionFailed", 500, "Failed to resolve variable %s", p.ref)
			}
			v = s
		}
		params = append(params, p.name, v)
	}
	if err := r.Budget().Decoded(int64(len(in))); err != nil {
		return err
	}
	out, err := x.style.TransformWith(in, params)
	if err != nil {
		return failed(err.Error(), err)
	}
	if err := r.Budget().Output(int64(len(out.Data))); err != nil {
		return err
	}
	if x.output == "" {
		m.SetContent(out.Data)
		return nil
	}
	if err := r.Set(x.output, string(out.Data)); err != nil {
		return fmt.Errorf("XSL %s: OutputVariable %s: %w", x.name, x.output, err)
	}
	return nil
}
