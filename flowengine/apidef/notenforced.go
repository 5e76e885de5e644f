package apidef

import (
	"encoding/xml"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Fail closed: every x-flat-* security, validation and CORS
// extension is enforced now — x-flat-validate by package oasvalidate,
// x-flat-cors by package cors (top level only, checked in load.go),
// x-flat-jwt and x-flat-cookiename by package jwtauth. The machinery below
// stays for the next extension that is known but not yet enforced: such
// an extension goes into notEnforced (load.go) with a reason here, and a
// definition that turns it on does not load (FP108).

// enforcedElsewhere are x-flat-* extensions another package reads and
// checks: apidef neither interprets nor rejects them.
var enforcedElsewhere = map[string]bool{
	"x-flat-validate": true,
}

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

var notEnforcedWhy = map[string]string{}

// disabled reports whether v turns the feature off. Nothing that still
// fails closed (x-flat-jwt) has an off switch: x-flat-jwt: false is still
// a JWT scheme.
func disabled(string, *yaml.Node) bool { return false }

// configSetting checks one setting of conf/config.xml's <flat> other than
// <definition>: <validation> that turns everything off is accepted; other
// settings flowproc does not honour yet are load errors (FP108), and
// unknown ones are FP107. It reports whether loading may go on.
func (l *loader) configSetting(cfg string, line, col int, el xml.StartElement) bool {
	at := Pos{File: cfg, Line: line, Col: col}
	attrs := map[string]string{}
	for _, a := range el.Attr {
		if a.Name.Local == "if" || strings.Contains(a.Value, "{") {
			// Fail closed: a setting that depends on the request cannot be
			// read once at load.
			l.errs.Addf(cfg, line, col, diag.NotEnforced, "<%s %s=%q>: conditional or dynamic config.xml settings are not supported by flowproc; use a static value", el.Name.Local, a.Name.Local, a.Value)
			return false
		}
		attrs[a.Name.Local] = a.Value
	}
	known := func(names ...string) bool {
		for k := range attrs {
			if !slices.Contains(names, k) {
				l.errs.Addf(cfg, line, col, diag.BadConfig, "<%s> has no attribute %q (known: %s)", el.Name.Local, k, strings.Join(names, ", "))
				return false
			}
		}
		return true
	}
	switch el.Name.Local {
	case "validation":
		if !known("request", "response") {
			return false
		}
		l.cfg.Validation = &ConfigValidation{Request: attrs["request"], Response: attrs["response"], At: at}
		return true
	case "cors":
		if !known("allowed-origins", "allow-credentials") {
			return false
		}
		l.cfg.CORS = &ConfigCORS{AllowedOrigins: attrs["allowed-origins"], AllowCredentials: attrs["allow-credentials"], At: at}
		return true
	case "ldap":
		if !known("cacert-src", "timeout") {
			return false
		}
		l.cfg.LDAP = &ConfigLDAP{CACertSrc: attrs["cacert-src"], Timeout: attrs["timeout"], At: at}
		return true
	}
	l.errs.Addf(cfg, line, col, diag.BadConfig, "unknown setting <%s> in config.xml (known: definition, validation, cors, ldap)", el.Name.Local)
	return false
}
