package apidef

import (
	"encoding/xml"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Fail closed (DESIGN §5): x-flat-validate and x-flat-cors are not
// enforced by this version of flowproc. A validation rule that is accepted
// and then ignored lets every request in, so a definition that turns one of
// them on does not load (FP108). Turning validation or CORS explicitly off
// (false, or an object whose switches are all false) is honoured: it is
// what flowproc does. (x-flat-jwt and x-flat-cookiename are enforced by
// package jwtauth.)

// checkNotEnforced reports every enabled, unenforced extension anywhere in
// the document, also below the levels walk visits.
func (l *loader) checkNotEnforced(n *yaml.Node) {
	l.scanNotEnforced(n, 0)
}

func (l *loader) scanNotEnforced(n *yaml.Node, depth int) {
	n = deref(n)
	if n == nil || depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			l.scanNotEnforced(c, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := keyText(k)
			if notEnforced[name] && !disabled(name, v) {
				l.errorf(k, diag.NotEnforced, "%s is not enforced by flowproc yet: %s; remove it (or set it to false) until it is", name, notEnforcedWhy[name])
				continue
			}
			l.scanNotEnforced(v, depth+1)
		}
	}
}

var notEnforcedWhy = map[string]string{
	"x-flat-validate": "requests and responses would not be validated",
	"x-flat-cors":     "CORS headers and preflight answers would be missing",
}

// disabled reports whether v turns the feature off: false, or (for
// x-flat-validate) an object whose request and response are both false.
func disabled(name string, v *yaml.Node) bool {
	v = deref(v)
	if v == nil {
		return false
	}
	if isFalse(v) {
		return name == "x-flat-validate" || name == "x-flat-cors"
	}
	if name != "x-flat-validate" || v.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if !isFalse(deref(v.Content[i+1])) {
			return false
		}
	}
	return true
}

func isFalse(v *yaml.Node) bool {
	return v != nil && v.Kind == yaml.ScalarNode && strings.EqualFold(v.Value, "false")
}

// configSetting checks one setting of conf/config.xml's <flat> other than
// <definition>: <validation> that turns everything off is accepted; other
// settings flowproc does not honour yet are load errors (FP108), and
// unknown ones are FP107. It reports whether loading may go on.
func (l *loader) configSetting(cfg string, line, col int, el xml.StartElement) bool {
	switch el.Name.Local {
	case "validation":
		for _, a := range el.Attr {
			if a.Name.Local == "if" || strings.EqualFold(a.Value, "false") {
				continue
			}
			l.errs.Addf(cfg, line, col, diag.NotEnforced, "<validation %s=%q> is not enforced by flowproc yet: requests and responses would not be validated; remove it (or set it to false) until it is", a.Name.Local, a.Value)
			return false
		}
		return true
	case "cors":
		l.errs.Addf(cfg, line, col, diag.NotEnforced, "<cors> is not enforced by flowproc yet: CORS headers and preflight answers would be missing; remove it until it is")
	case "ldap":
		l.errs.Addf(cfg, line, col, diag.NotEnforced, "<ldap> is not supported by flowproc yet (ldap-lookup and ldap-query are not available)")
	default:
		l.errs.Addf(cfg, line, col, diag.BadConfig, "unknown setting <%s> in config.xml (known: definition, validation)", el.Name.Local)
	}
	return false
}
