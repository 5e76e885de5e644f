package policies

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// AccessControl (Apigee docs: AccessControl) allows or denies the client by IP
// address:
//
//	<AccessControl name="AC">
//	  <IPRules noRuleMatchAction="ALLOW">
//	    <MatchRule action="DENY"><SourceAddress mask="24">198.51.100.1</SourceAddress></MatchRule>
//	  </IPRules>
//	  <IgnoreTrueClientIPHeader>true</IgnoreTrueClientIPHeader>
//	  <ClientIPVariable>var</ClientIPVariable>                          <!-- X -->
//	  <ValidateBasedOn>X_FORWARDED_FOR_ALL_IP</ValidateBasedOn>          <!-- Edge -->
//	</AccessControl>
//
// A denied client gets the IPDeniedAccess fault: 403, "Access Denied for
// client ip : <ip>" (Apigee's AccessControl page); a failure sets
// acl.<policy>.failed, as that page's fault variables say.
//
// Which addresses are checked (Apigee's AccessControl pages, Edge and X;
// where they are silent flowproc's choice is marked):
//  1. <ClientIPVariable>, when given: the address in that variable, only.
//     If it is unset or not an IPv4/IPv6 address the policy fails with
//     InvalidIPAddressInVariable (500), as Apigee X documents.
//  2. Else, unless <IgnoreTrueClientIPHeader> is true (default false), a
//     True-Client-IP request header: that address, only. (Apigee X notes
//     that without IgnoreTrueClientIPHeader=true multiple X-Forwarded-For
//     addresses are not evaluated and that the header is not handled
//     correctly; flowproc gives it a defined meaning instead.)
//  3. Else the X-Forwarded-For addresses (all lines, comma separated) in
//     order, followed by the connecting client's address (client.ip from
//     Envoy's source.address) unless it already is the last entry. Apigee's
//     own router appends the connecting address to X-Forwarded-For before
//     the policy sees it; Envoy does the same with use_remote_address, and
//     appending client.ip here gives one behaviour for both Envoy
//     configurations. From that list <ValidateBasedOn> picks:
//     X_FORWARDED_FOR_ALL_IP (the default): every address is checked and
//     the request is denied if any one is denied; X_FORWARDED_FOR_FIRST_IP:
//     only the first (the one the original client claims, which a client
//     can forge); X_FORWARDED_FOR_LAST_IP: only the last (the address the
//     last proxy saw).
//
// One address is checked against the MatchRules in order; the first rule
// with a SourceAddress whose network (address and mask) contains it
// decides (its action, default ALLOW); with no matching rule
// noRuleMatchAction decides (default ALLOW) — Apigee: "When a rule
// matches, the corresponding action is executed and following match
// rules are skipped". mask defaults to 32 for IPv4
// and 128 for IPv6 addresses; IPv4-mapped IPv6 addresses compare as IPv4.
// An address or mask given as a template ({kvm.ip.value}) is resolved per
// request; one that does not resolve or parse makes the policy fail
// (ExecutionFailed: flowproc fails closed rather than skip a rule). An
// X-Forwarded-For entry that is not an address (an "unknown" token) goes
// to noRuleMatchAction. With no address at all the request is denied.
func init() {
	engine.Register(engine.Kind{Type: "AccessControl", Prefix: "accesscontrol", FailedPrefix: "acl", New: newAccessControl, Recyclable: true})
}

type acMode int

const (
	acAll acMode = iota
	acFirst
	acLast
)

type acSource struct {
	addr, mask *msgtemplate.Template // nil: fixed prefix
	prefix     netip.Prefix
}

type acRule struct {
	allow   bool
	sources []acSource
}

type accessControl struct {
	rules        []acRule
	noMatchAllow bool
	ignoreTrueIP bool
	clientVar    string
	mode         acMode
}

func acAction(c *engine.Compiler, n *bundle.Node, attr string) bool {
	v, _ := n.Attr(attr)
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "", "ALLOW":
		return true
	case "DENY":
		return false
	}
	c.Errorf(n, diag.APBadPolicy, "%s=%q: want ALLOW or DENY", attr, v)
	return true
}

func newAccessControl(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("IPRules", "IgnoreTrueClientIPHeader", "ClientIPVariable", "ValidateBasedOn")...)
	ac := &accessControl{noMatchAllow: true}
	rules := root.Child("IPRules")
	if rules == nil {
		c.Errorf(root, diag.APMissingElement, "AccessControl %s has no <IPRules>", p.Name)
		return nil
	}
	ac.noMatchAllow = acAction(c, rules, "noRuleMatchAction")
	c.Unknown(rules, "MatchRule")
	for _, mr := range rules.Children {
		if mr.Name != "MatchRule" {
			continue
		}
		c.Unknown(mr, "SourceAddress")
		rule := acRule{allow: acAction(c, mr, "action")}
		for _, sa := range mr.Children {
			if sa.Name != "SourceAddress" {
				continue
			}
			if src, ok := ac.compileSource(c, sa); ok {
				rule.sources = append(rule.sources, src)
			}
		}
		if len(rule.sources) == 0 {
			c.Errorf(mr, diag.APMissingElement, "<MatchRule> has no <SourceAddress>")
		}
		ac.rules = append(ac.rules, rule)
	}
	if n := root.Child("IgnoreTrueClientIPHeader"); n != nil {
		ac.ignoreTrueIP = c.Bool(n, n.Text, false)
	}
	if n := root.Child("ClientIPVariable"); n != nil {
		ac.clientVar = strings.Trim(strings.TrimSpace(n.Text), "{}")
		if ac.clientVar == "" {
			c.Errorf(n, diag.APBadPolicy, "<ClientIPVariable> is empty")
		}
	}
	if n := root.Child("ValidateBasedOn"); n != nil {
		switch strings.ToUpper(strings.TrimSpace(n.Text)) {
		case "X_FORWARDED_FOR_ALL_IP":
			ac.mode = acAll
		case "X_FORWARDED_FOR_FIRST_IP":
			ac.mode = acFirst
		case "X_FORWARDED_FOR_LAST_IP":
			ac.mode = acLast
		default:
			c.Errorf(n, diag.APBadPolicy, "<ValidateBasedOn> %q: want X_FORWARDED_FOR_ALL_IP, X_FORWARDED_FOR_FIRST_IP or X_FORWARDED_FOR_LAST_IP", n.Text)
		}
	}
	return ac
}

func (ac *accessControl) compileSource(c *engine.Compiler, sa *bundle.Node) (acSource, bool) {
	text := strings.TrimSpace(sa.Text)
	maskSrc, hasMask := sa.Attr("mask")
	maskSrc = strings.TrimSpace(maskSrc)
	if text == "" {
		c.Errorf(sa, diag.APMissingElement, "<SourceAddress> is empty")
		return acSource{}, false
	}
	var src acSource
	dynamic := false
	if strings.ContainsRune(text, '{') {
		src.addr = c.Template(sa, text)
		if src.addr == nil {
			return acSource{}, false
		}
		dynamic = true
	}
	if hasMask && strings.ContainsRune(maskSrc, '{') {
		src.mask = c.Template(sa, maskSrc)
		if src.mask == nil {
			return acSource{}, false
		}
		dynamic = true
	}
	if dynamic {
		if src.addr == nil {
			src.addr = c.Template(sa, text)
		}
		if src.mask == nil && hasMask {
			src.mask = c.Template(sa, maskSrc)
		}
		return src, src.addr != nil
	}
	pfx, err := acPrefix(text, maskSrc)
	if err != nil {
		c.Errorf(sa, diag.APBadPolicy, "<SourceAddress>: %v", err)
		return acSource{}, false
	}
	src.prefix = pfx
	return src, true
}

// acPrefix builds the network of an address and mask ("" = host mask).
func acPrefix(addr, mask string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address", addr)
	}
	a = a.Unmap().WithZone("")
	bits := a.BitLen()
	if m := strings.TrimSpace(mask); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("mask %q: want 0 to %d", mask, a.BitLen())
		}
		bits = n
	}
	return a.Prefix(bits)
}

// acParse reads one address as found in X-Forwarded-For or a variable:
// bare, or with a port ("1.2.3.4:80", "[::1]:80"); an IPv6 zone is
// dropped.
func acParse(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// Execute implements engine.Policy.
func (ac *accessControl) Execute(r *engine.Run) error {
	addrs := ac.addresses(r)
	if ac.clientVar != "" {
		if _, ok := acParse(addrs[0]); !ok {
			// Apigee: "If the flow variable does not contain a valid IP
			// address (ipv4 or ipv6), then the policy throws an error";
			// the faultstring is not documented.
			return engine.NewFault("accesscontrol", "InvalidIPAddressInVariable", 500,
				"Invalid IP address in variable %s : %q", ac.clientVar, addrs[0])
		}
	}
	if len(addrs) == 0 {
		return engine.NewFault("accesscontrol", "IPDeniedAccess", 403, "Access Denied for client ip : %s", "")
	}
	for _, s := range addrs {
		allow, err := ac.decide(r, s)
		if err != nil {
			return err
		}
		if !allow {
			return engine.NewFault("accesscontrol", "IPDeniedAccess", 403, "Access Denied for client ip : %s", s)
		}
	}
	return nil
}

// addresses returns the addresses to check, as strings.
func (ac *accessControl) addresses(r *engine.Run) []string {
	if ac.clientVar != "" {
		v, _ := secVar(r, ac.clientVar)
		return []string{strings.TrimSpace(v)}
	}
	req := r.Request
	if !ac.ignoreTrueIP {
		if v, ok := req.Header("True-Client-IP"); ok && v != "" {
			return []string{v}
		}
	}
	var list []string
	for _, v := range req.HeaderValues("X-Forwarded-For") {
		if v != "" {
			list = append(list, v)
		}
	}
	if ip, ok := secVar(r, "client.ip"); ok && ip != "" {
		last, lok := netip.Addr{}, false
		if len(list) > 0 {
			last, lok = acParse(list[len(list)-1])
		}
		cip, cok := acParse(ip)
		if !lok || !cok || last != cip {
			list = append(list, ip)
		}
	}
	if len(list) == 0 {
		return nil
	}
	switch ac.mode {
	case acFirst:
		return list[:1]
	case acLast:
		return list[len(list)-1:]
	}
	return list
}

// decide applies the rules to one address.
func (ac *accessControl) decide(r *engine.Run, s string) (bool, error) {
	a, ok := acParse(s)
	if !ok {
		return ac.noMatchAllow, nil
	}
	for _, rule := range ac.rules {
		for _, src := range rule.sources {
			pfx := src.prefix
			if src.addr != nil {
				var err error
				if pfx, err = ac.resolve(r, src); err != nil {
					return false, err
				}
			}
			if pfx.Contains(a) {
				return rule.allow, nil
			}
		}
	}
	return ac.noMatchAllow, nil
}

func (ac *accessControl) resolve(r *engine.Run, src acSource) (netip.Prefix, error) {
	addr, miss, err := src.addr.String(r)
	if err == nil && miss != "" {
		err = fmt.Errorf("unresolved variable %s", miss)
	}
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("SourceAddress %q: %w", src.addr.Source(), err)
	}
	mask := ""
	if src.mask != nil {
		if mask, miss, err = src.mask.String(r); err == nil && miss != "" {
			err = fmt.Errorf("unresolved variable %s", miss)
		}
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("SourceAddress mask %q: %w", src.mask.Source(), err)
		}
	}
	pfx, err := acPrefix(addr, mask)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("SourceAddress %q: %w", src.addr.Source(), err)
	}
	return pfx, nil
}
