package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// ErrReadOnly is returned when a flow writes a read-only variable.
var ErrReadOnly = errors.New("variable is read-only")

// Lookup implements flowvar.Vars: Apigee's built-in variables as a view
// over the exchange (request.*, response.*, message.*, error.*, proxy.*,
// target.*, client.*, system.*, environment.*, organization.*,
// apiproxy.*, route.*, fault.*, is.error, messageid, current.flow.*), the
// fields of message variables policies created, then custom variables.
// An unknown variable is absent (null), as in Apigee.
func (r *Run) Lookup(name string) (any, bool) {
	v, ok := r.lookup(name)
	return v.boxed(), ok
}

// LookupString implements flowvar.StringVars: Lookup without boxing a
// string value.
func (r *Run) LookupString(name string) (s string, isString bool, value any, ok bool) {
	v, ok := r.lookup(name)
	if !v.str {
		if s, is := v.v.(string); is {
			// A custom variable or system.* string, boxed already.
			return s, true, nil, ok
		}
	}
	return v.s, v.str, v.v, ok
}

// varValue is a variable's value as lookup finds it: a string in s (str
// set), or any other value in v. Most of Apigee's built-in variables are
// strings; kept apart, they reach conditions and templates without an
// allocation for the interface (flowvar.StringVars).
type varValue struct {
	s   string
	v   any
	str bool
}

func strValue(s string) varValue { return varValue{s: s, str: true} }

func anyValue(v any) varValue { return varValue{v: v} }

// boxed is the value as an interface (flowvar.Vars' form).
func (v varValue) boxed() any {
	if v.str {
		return v.s
	}
	return v.v
}

// lookup is Lookup's body (see there).
func (r *Run) lookup(name string) (varValue, bool) {
	head, rest, _ := strings.Cut(name, ".")
	switch head {
	case "request", "response", "message", "error":
		if head == "error" {
			if r.fault == nil {
				break
			}
			switch rest {
			case "message":
				return strValue(r.fault.Message), true
			case "state":
				return strValue(string(r.segment)), true
			case "":
				return strValue("error"), true
			}
		}
		if m, ok := r.Message(head); ok && m != nil {
			if v, ok := r.messageField(m, head, rest); ok {
				return v, true
			}
		}
	case "proxy":
		switch rest {
		case "basepath":
			return strValue(r.basePath), true
		case "pathsuffix":
			return strValue(r.pathSuffix), true
		case "name":
			return strValue(r.ep.name), true
		case "url":
			return strValue(r.x.Req.Scheme + "://" + r.x.Req.Authority + r.x.Req.Path), true
		case "client.ip":
			return strValue(r.x.Req.ClientInfo().Address), true
		}
	case "target":
		switch rest {
		case "url":
			if r.targetURL != "" {
				return strValue(r.targetURL), true
			}
			if u := r.chosenURL(); u != "" {
				return strValue(u), true
			}
			if r.segment == TargetRequest || r.te != nil {
				if b, err := r.targetBase(); err == nil {
					return strValue(b.String()), true
				}
			}
		case "name":
			if r.te != nil {
				return strValue(r.te.name), true
			}
		case "copy.pathsuffix":
			return anyValue(r.copySuffix), true
		case "copy.queryparams":
			return anyValue(r.copyQuery), true
		case "basepath", "host", "scheme", "port":
			if u, err := parseTargetURL(r.chosenURL()); err == nil {
				switch rest {
				case "basepath":
					return strValue(u.Path), true
				case "host":
					return strValue(u.Hostname()), true
				case "scheme":
					return strValue(u.Scheme), true
				case "port":
					if p := u.Port(); p != "" {
						return strValue(p), true
					}
					if u.Scheme == "https" {
						return strValue("443"), true
					}
					return strValue("80"), true
				}
			}
		}
	case "loadbalancing":
		if rest == "targetserver" && r.lbServer != nil {
			return strValue(r.lbServer.name), true
		}
		if rest == "isfallback" && r.lbServer != nil {
			return anyValue(r.lbServer.fallback), true
		}
	case "route":
		if r.rt != nil {
			switch rest {
			case "name":
				return strValue(r.rt.name), true
			case "target":
				if r.rt.target != nil {
					return strValue(r.rt.target.name), true
				}
				return strValue(r.rt.url), true
			}
		}
	case "client":
		c := r.x.Req.ClientInfo()
		switch rest {
		case "ip", "host":
			return strValue(c.Address), true
		case "port":
			return anyValue(c.Port), true
		case "scheme":
			if r.x.Req.Scheme != "" {
				return strValue(r.x.Req.Scheme), true
			}
			return strValue("http"), true
		case "ssl.enabled":
			return anyValue(c.TLS || r.x.Req.Scheme == "https"), true
		case "cn", "country", "email.address", "locality", "organization", "organization.unit", "state":
			if v, ok := dnPart(c.PeerSubject, rest); ok {
				return strValue(v), true
			}
		case "received.start.timestamp", "received.end.timestamp":
			return anyValue(r.start.UnixMilli()), true
		case "received.start.time", "received.end.time":
			return strValue(javaTime(r.start)), true
		}
	case "system":
		v, ok := r.systemVar(rest)
		return anyValue(v), ok
	case "environment":
		if rest == "name" {
			return strValue(r.p.dep.Environment), true
		}
	case "organization":
		if rest == "name" {
			return strValue(r.p.dep.Organization), true
		}
	case "apiproxy":
		switch rest {
		case "name":
			return strValue(r.p.bundleName), true
		case "revision":
			return strValue("1"), true
		}
	case "application":
		if rest == "basepath" {
			return strValue(""), true
		}
	case "fault":
		if r.fault != nil {
			switch rest {
			case "name":
				return strValue(r.fault.Name), true
			case "reason":
				return strValue(r.fault.Message), true
			case "category", "type":
				return strValue(faultCategory(r.fault)), true
			}
		}
	case "is":
		if rest == "error" {
			return anyValue(r.fault != nil), true
		}
	case "messageid":
		if rest == "" {
			return strValue(r.x.ID), true
		}
	case "current":
		switch rest {
		case "flow.name":
			return strValue(r.flowName), true
		case "flow.description":
			return strValue(""), true
		}
	case "propertyset":
		set, key, _ := strings.Cut(rest, ".")
		if v, ok := r.p.dep.Properties[set][key]; ok {
			return strValue(v), true
		}
	}
	if v, ok := r.vars[name]; ok {
		return anyValue(v), true
	}
	if m, ok := r.msgs[head]; ok {
		return r.messageField(m, head, rest)
	}
	return varValue{}, false
}

func faultCategory(f *Fault) string {
	switch {
	case strings.HasPrefix(f.Code, "steps."):
		return "Step"
	case strings.HasPrefix(f.Code, "messaging."):
		return "Messaging"
	case strings.HasPrefix(f.Code, "policies."):
		return "Policy"
	}
	return "System"
}

// messageField reads a message's variable (the part after "request.").
func (r *Run) messageField(m *Message, head, rest string) (varValue, bool) {
	switch rest {
	case "":
		return anyValue(m), true
	case "content":
		b, err := m.Content()
		if err != nil {
			return varValue{}, false
		}
		return strValue(string(b)), true
	case "verb":
		if m.IsRequest {
			return strValue(m.Verb), true
		}
	case "path":
		if m.IsRequest {
			return strValue(m.Path), true
		}
	case "uri":
		if m.IsRequest {
			return strValue(m.URI()), true
		}
	case "url":
		if m.IsRequest {
			if m == &r.req {
				return strValue(r.x.Req.Scheme + "://" + r.x.Req.Authority + m.URI()), true
			}
			return strValue(m.URI()), true
		}
	case "querystring":
		if m.IsRequest {
			return strValue(m.QueryString()), true
		}
	case "queryparams.count":
		return anyValue(len(m.Query())), true
	case "queryparams.names":
		return strValue(javaList(paramNames(m.Query()))), true
	case "headers.count":
		return anyValue(len(m.Headers)), true
	case "headers.names":
		return strValue(javaList(m.HeaderNames())), true
	case "formparams.count":
		return anyValue(len(m.FormParams())), true
	case "formparams.names":
		return strValue(javaList(paramNames(m.FormParams()))), true
	case "formstring":
		return strValue(encodeParams(m.FormParams())), true
	case "status.code", "status":
		if !m.IsRequest {
			return anyValue(m.Status), true
		}
	case "reason.phrase":
		if !m.IsRequest {
			return strValue(reasonOf(m)), true
		}
	case "version":
		return strValue(m.Version), true
	case "transport.message":
		return anyValue(m), true
	}
	switch {
	case strings.HasPrefix(rest, "header."):
		v, ok := headerVar(m, rest[len("header."):])
		if !ok && m == &r.req && strings.EqualFold(rest, "header.host") && r.x.Req.Authority != "" {
			// Envoy carries Host as :authority.
			return strValue(r.x.Req.Authority), true
		}
		return v, ok
	case strings.HasPrefix(rest, "queryparam."):
		return paramVar(m.Query(), rest[len("queryparam."):])
	case strings.HasPrefix(rest, "formparam."):
		return paramVar(m.FormParams(), rest[len("formparam."):])
	}
	return varValue{}, false
}

// headerVar reads header.<name>[.values|.values.count|.values.string|.<N>].
func headerVar(m *Message, rest string) (varValue, bool) {
	for _, suffix := range []string{".values.count", ".values.string", ".values"} {
		if name, ok := strings.CutSuffix(rest, suffix); ok {
			vs := m.HeaderValues(name)
			switch suffix {
			case ".values.count":
				return anyValue(len(vs)), true
			case ".values.string":
				if line, ok := m.HeaderLine(name); ok {
					return strValue(line), true
				}
				return varValue{}, false
			default:
				if vs == nil {
					return varValue{}, false
				}
				return strValue(javaList(vs)), true
			}
		}
	}
	if v, ok := m.Header(rest); ok {
		return strValue(v), true
	}
	// header.<name>.<N>: the N-th value (1-based).
	if i := strings.LastIndexByte(rest, '.'); i > 0 {
		if n, err := strconv.Atoi(rest[i+1:]); err == nil && n >= 1 {
			vs := m.HeaderValues(rest[:i])
			if n <= len(vs) {
				return strValue(vs[n-1]), true
			}
		}
	}
	return varValue{}, false
}

func paramVar(ps []Param, rest string) (varValue, bool) {
	for _, suffix := range []string{".values.count", ".values"} {
		if name, ok := strings.CutSuffix(rest, suffix); ok {
			var vs []string
			for _, p := range ps {
				if p.Name == name {
					vs = append(vs, p.Value)
				}
			}
			if suffix == ".values.count" {
				return anyValue(len(vs)), true
			}
			if vs == nil {
				return varValue{}, false
			}
			return strValue(javaList(vs)), true
		}
	}
	for _, p := range ps {
		if p.Name == rest {
			return strValue(p.Value), true
		}
	}
	if i := strings.LastIndexByte(rest, '.'); i > 0 {
		if n, err := strconv.Atoi(rest[i+1:]); err == nil && n >= 1 {
			k := 0
			for _, p := range ps {
				if p.Name == rest[:i] {
					if k++; k == n {
						return strValue(p.Value), true
					}
				}
			}
		}
	}
	return varValue{}, false
}

func paramNames(ps []Param) []string {
	var out []string
next:
	for _, p := range ps {
		for _, n := range out {
			if n == p.Name {
				continue next
			}
		}
		out = append(out, p.Name)
	}
	return out
}

func reasonOf(m *Message) string {
	if m.Reason != "" {
		return m.Reason
	}
	return httpReason(m.Status)
}

func dnPart(dn, field string) (string, bool) {
	key := map[string]string{"cn": "CN", "country": "C", "email.address": "emailAddress", "locality": "L",
		"organization": "O", "organization.unit": "OU", "state": "ST"}[field]
	for _, part := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func javaTime(t time.Time) string {
	return t.UTC().Format("Mon, 2 Jan 2006 15:04:05.000 MST")
}

func (r *Run) systemVar(rest string) (any, bool) {
	now := time.Now()
	switch rest {
	case "timestamp":
		return now.UnixMilli(), true
	case "time":
		return javaTime(now), true
	case "time.year":
		return now.UTC().Year(), true
	case "time.month":
		return int(now.UTC().Month()), true
	case "time.day":
		return now.UTC().Day(), true
	case "time.dayofweek":
		return int(now.UTC().Weekday()) + 1, true // Calendar.SUNDAY = 1
	case "time.hour":
		return now.UTC().Hour(), true
	case "time.minute":
		return now.UTC().Minute(), true
	case "time.second":
		return now.UTC().Second(), true
	case "time.millisecond":
		return now.UTC().Nanosecond() / 1e6, true
	case "time.zone":
		return "UTC", true
	case "uuid":
		return newUUID(), true
	case "pod.name", "region.name":
		return "flowproc", true
	}
	return nil, false
}

// Get returns the string form of a variable ("" and false when it is
// absent or null).
func (r *Run) Get(name string) (string, bool) {
	v, ok := r.Lookup(name)
	if !ok || v == nil {
		return "", false
	}
	if m, isMsg := v.(*Message); isMsg {
		b, _ := m.Content()
		return string(b), true
	}
	return flowvar.String(v)
}

// setVar stores a custom variable without checks.
func (r *Run) setVar(name string, v any) {
	if r.vars == nil {
		r.vars = make(map[string]any, 8)
	}
	r.vars[name] = v
}

// Set writes a flow variable: message fields (request.header.x,
// response.content, response.status.code, …), the writable built-ins
// (target.url, target.copy.*), or a custom variable. Read-only built-ins
// are refused with ErrReadOnly.
func (r *Run) Set(name string, v any) error {
	if r.x.Trace != nil {
		s, _ := flowvar.String(v)
		if strings.HasPrefix(name, "private.") {
			s = "********"
		}
		r.x.TraceVar(name, s)
	}
	head, rest, _ := strings.Cut(name, ".")
	if m, isMsg := v.(*Message); isMsg && rest == "" {
		r.SetMessage(head, m)
		return nil
	}
	switch head {
	case "request", "response", "message", "error":
		m, ok := r.Message(head)
		if !ok || m == nil {
			return fmt.Errorf("%s: %w", name, ErrReadOnly)
		}
		return setMessageField(m, rest, v)
	case "target":
		switch rest {
		case "url":
			s, _ := flowvar.String(v)
			r.targetURL = s
			return nil
		case "copy.pathsuffix":
			r.copySuffix = truthy(v)
			return nil
		case "copy.queryparams":
			r.copyQuery = truthy(v)
			return nil
		}
	case "proxy", "client", "system", "environment", "organization", "apiproxy", "route", "fault", "is", "messageid", "current", "loadbalancing":
		if _, builtin := r.Lookup(name); builtin && (r.vars == nil || r.vars[name] == nil) {
			return fmt.Errorf("%s: %w", name, ErrReadOnly)
		}
	}
	if m, ok := r.msgs[head]; ok && rest != "" {
		return setMessageField(m, rest, v)
	}
	r.setVar(name, v)
	return nil
}

// Remove deletes a custom variable (JavaScript context.removeVariable).
func (r *Run) Remove(name string) {
	delete(r.vars, name)
	delete(r.msgs, name)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true")
	}
	return false
}

func setMessageField(m *Message, rest string, v any) error {
	s, _ := flowvar.String(v)
	switch rest {
	case "content":
		if b, ok := v.([]byte); ok {
			m.SetContent(b)
		} else {
			m.SetContent([]byte(s))
		}
		return nil
	case "verb":
		m.SetVerb(s)
		return nil
	case "path":
		m.SetPath(s)
		return nil
	case "uri":
		m.SetPath(s)
		return nil
	case "querystring":
		m.SetQueryString(s)
		return nil
	case "status.code", "status":
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 100 || n > 999 {
			return fmt.Errorf("status.code %q is not an HTTP status", s)
		}
		m.SetStatus(n)
		return nil
	case "reason.phrase":
		m.Reason = s
		return nil
	case "version":
		m.Version = s
		return nil
	}
	switch {
	case strings.HasPrefix(rest, "header."):
		m.SetHeader(rest[len("header."):], s)
		return nil
	case strings.HasPrefix(rest, "queryparam."):
		m.SetQueryParam(rest[len("queryparam."):], s)
		return nil
	case strings.HasPrefix(rest, "formparam."):
		m.SetFormParam(rest[len("formparam."):], s)
		return nil
	}
	return fmt.Errorf("%s: %w", rest, ErrReadOnly)
}
