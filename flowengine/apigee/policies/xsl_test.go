package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/xslt"
)

const testXSL = `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="xml" omit-xml-declaration="yes"/>
<xsl:param name="uid"/><xsl:param name="greeting" select="'none'"/>
<xsl:template match="/order"><receipt user="{$uid}" greeting="{$greeting}"><xsl:value-of select="count(item)"/></receipt></xsl:template>
</xsl:stylesheet>`

func TestXSL(t *testing.T) {
	res := map[string]string{"resources/xsl/t.xsl": testXSL, "resources/xsl/bad.xsl": "<xsl:stylesheet"}
	if !xslt.Available() {
		runCases(t, []pcase{{
			name:      "default build refuses XSL at load",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL></XSL>`,
			resources: res, loadErr: "-tags xslt",
		}})
		return
	}
	order := `<order><item/><item/></order>`
	runCases(t, []pcase{
		{
			name:      "transform into a variable with parameters",
			policy:    `<XSL name="X"><Source>request</Source><ResourceURL>xsl://t.xsl</ResourceURL><Parameters><Parameter name="uid" ref="flow.uid"/><Parameter name="greeting" value="it's &quot;hi&quot;"/></Parameters><OutputVariable>flow.out</OutputVariable></XSL>`,
			resources: res, method: "POST", body: order, headers: []string{"Content-Type", "application/xml"},
			setup: func(r *engine.Run) { _ = r.Set("flow.uid", "u1") },
			vars:  map[string]string{"flow.out": "<receipt user=\"u1\" greeting=\"it's &quot;hi&quot;\">2</receipt>\n", "request.content": order},
		},
		{
			name:      "transform the source in place",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL></XSL>`,
			resources: res, method: "POST", body: order,
			vars: map[string]string{"request.content": "<receipt user=\"\" greeting=\"none\">2</receipt>\n"},
		},
		{
			name:      "unresolved parameter fails",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL><Parameters><Parameter name="uid" ref="flow.nope"/></Parameters></XSL>`,
			resources: res, method: "POST", body: order,
			fault: "steps.xsl.XSLVariableResolutionFailed", faultMsg: "Failed to resolve variable flow.nope",
		},
		{
			name:      "unresolved parameter ignored",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL><Parameters ignoreUnresolvedVariables="true"><Parameter name="uid" ref="flow.nope"/></Parameters><OutputVariable>o</OutputVariable></XSL>`,
			resources: res, method: "POST", body: order,
			vars: map[string]string{"o": "<receipt user=\"\" greeting=\"none\">2</receipt>\n"},
		},
		{
			name:      "malformed input",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL></XSL>`,
			resources: res, method: "POST", body: "<order>",
			fault: "steps.xsl.XSLEvaluationFailed", faultMsg: `Evaluation of XSL t.xsl failed with reason: "the input is not well-formed XML"`,
		},
		{
			name:      "entity bomb refused",
			policy:    `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL></XSL>`,
			resources: res, method: "POST", body: `<!DOCTYPE order [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><order>&b;</order>`,
			fault: "steps.xsl.XSLEvaluationFailed",
		},
		{
			name:      "source not available",
			policy:    `<XSL name="X"><Source>response</Source><ResourceURL>xsl://t.xsl</ResourceURL></XSL>`,
			resources: res,
			fault:     "steps.xsl.XSLSourceMessageNotAvailable", faultMsg: "response message is not available for XSL: X",
		},
		{name: "missing resource", policy: `<XSL name="X"><ResourceURL>xsl://none.xsl</ResourceURL></XSL>`, resources: res, loadErr: "AP204"},
		{name: "bad stylesheet", policy: `<XSL name="X"><ResourceURL>xsl://bad.xsl</ResourceURL></XSL>`, resources: res, loadErr: "AP401"},
		{name: "output cannot be a message", policy: `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL><OutputVariable>response</OutputVariable></XSL>`, resources: res, loadErr: "AP401"},
		{name: "resource must be xsl", policy: `<XSL name="X"><ResourceURL>jsc://t.xsl</ResourceURL></XSL>`, resources: res, loadErr: "AP401"},
		{name: "parameter needs ref or value", policy: `<XSL name="X"><ResourceURL>xsl://t.xsl</ResourceURL><Parameters><Parameter name="p"/></Parameters></XSL>`, resources: res, loadErr: "AP401"},
	})
}
