package policies

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

func init() {
	engine.Register(engine.Kind{Type: "ServiceCallout", Prefix: "servicecallout", New: newServiceCallout})
}

// defaultCalloutTimeout is ServiceCallout's <Timeout> when absent: 55 s,
// Apigee's documented default for the policy.
const defaultCalloutTimeout = 55 * time.Second

// serviceCallout is a compiled ServiceCallout policy (Apigee docs: ServiceCallout). It builds a request message with the AssignMessage operations,
// sends it to HTTPTargetConnection/URL through the side-call client and
// stores the answer as the <Response> message variable. Without
// <Response> the call is fire-and-forget: it is sent after the client's
// answer and nothing waits for it.
type serviceCallout struct {
	name         string
	reqVar       string
	clearPayload bool
	ops          msgOps
	strict       bool
	respVar      string
	url          *msgtemplate.Template
	timeout      time.Duration
	connect      time.Duration
	success      codeSet
	tls          upstream.TLSOptions
}

// calloutProps are the HTTPTargetConnection properties flowproc honours
// or may ignore without changing what is sent.
var calloutProps = map[string]bool{
	"success.codes": true, "connect.timeout.millis": true, "io.timeout.millis": true,
	"keepalive.timeout.millis": true, "supports.http10": true, "supports.http11": true,
}

func newServiceCallout(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, "DisplayName", "Description", "Properties", "Request", "Response", "Timeout", "HTTPTargetConnection", "LocalTargetConnection")
	sc := &serviceCallout{name: p.Name, strict: true, timeout: defaultCalloutTimeout, success: defaultSuccess}
	if n := root.Child("Request"); n != nil {
		c.Unknown(n, append([]string{"IgnoreUnresolvedVariables"}, opElements...)...)
		sc.reqVar, _ = n.Attr("variable")
		sc.reqVar = strings.TrimSpace(sc.reqVar)
		cp, _ := n.Attr("clearPayload")
		sc.clearPayload = c.Bool(n, cp, false)
		if iu := n.Child("IgnoreUnresolvedVariables"); iu != nil {
			sc.strict = !c.Bool(iu, iu.Text, false)
		}
		sc.ops = compileOps(c, n)
	}
	if n := root.Child("Response"); n != nil {
		c.Unknown(n)
		sc.respVar = n.Text
	}
	if n := root.Child("Timeout"); n != nil {
		c.Unknown(n)
		ms, err := strconv.Atoi(n.Text)
		if err != nil || ms <= 0 {
			c.Errorf(n, diag.APBadPolicy, "<Timeout> %q is not a positive number of milliseconds", n.Text)
		} else {
			sc.timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if n := root.Child("LocalTargetConnection"); n != nil {
		c.Errorf(n, diag.APUnknownElement, "<LocalTargetConnection> (a callout to a proxy of this organization) is not supported: use HTTPTargetConnection")
	}
	conn := root.Child("HTTPTargetConnection")
	if conn == nil {
		if root.Child("LocalTargetConnection") == nil {
			c.Errorf(root, diag.APMissingElement, "<ServiceCallout> needs an <HTTPTargetConnection>")
		}
		return sc
	}
	sc.compileConnection(c, conn)
	return sc
}

func (sc *serviceCallout) compileConnection(c *engine.Compiler, conn *bundle.Node) {
	c.Unknown(conn, "URL", "Properties", "SSLInfo")
	u := conn.Child("URL")
	if u == nil {
		c.Errorf(conn, diag.APMissingElement, "<HTTPTargetConnection> needs a <URL>")
		return
	}
	c.Unknown(u)
	// The scheme cannot come from a variable (ServiceCallout reference:
	// "The protocol portion of the URL, http://, cannot be specified by
	// a variable").
	low := strings.ToLower(u.Text)
	if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") {
		c.Errorf(u, diag.APBadPolicy, "<URL> %q must start with http:// or https://", u.Text)
		return
	}
	sc.url = c.Template(u, u.Text)
	if props := conn.Child("Properties"); props != nil {
		c.Unknown(props, "Property")
		for _, pr := range props.Children {
			if pr.Name != "Property" {
				continue
			}
			c.Unknown(pr)
			name, _ := pr.Attr("name")
			if !calloutProps[name] {
				c.Errorf(pr, diag.APBadPolicy, "HTTPTargetConnection property %q is not supported", name)
				continue
			}
			switch name {
			case "success.codes":
				s, err := parseCodes(pr.Text)
				if err != nil {
					c.Errorf(pr, diag.APBadPolicy, "success.codes: %v", err)
					continue
				}
				sc.success = s
			case "connect.timeout.millis", "io.timeout.millis":
				ms, err := strconv.Atoi(pr.Text)
				if err != nil || ms <= 0 {
					c.Errorf(pr, diag.APBadPolicy, "%s %q is not a positive number of milliseconds", name, pr.Text)
					continue
				}
				if name == "connect.timeout.millis" {
					sc.connect = time.Duration(ms) * time.Millisecond
				} else if d := time.Duration(ms) * time.Millisecond; d < sc.timeout {
					sc.timeout = d
				}
			}
		}
	}
	if ssl := conn.Child("SSLInfo"); ssl != nil {
		sc.compileSSL(c, ssl)
	}
}

// compileSSL maps SSLInfo onto the side call's TLS options. Keystores and
// truststores live in Apigee's key management, which flowproc does not
// have: they (and client authentication) are load errors.
func (sc *serviceCallout) compileSSL(c *engine.Compiler, ssl *bundle.Node) {
	c.Unknown(ssl, "Enabled", "Enforce", "IgnoreValidationErrors", "Protocols", "Ciphers", "ClientAuthEnabled")
	for _, n := range ssl.Children {
		switch n.Name {
		case "Enabled", "Enforce":
			c.Unknown(n)
			c.Bool(n, n.Text, false)
		case "IgnoreValidationErrors":
			c.Unknown(n)
			sc.tls.InsecureSkipVerify = c.Bool(n, n.Text, false)
		case "ClientAuthEnabled":
			c.Unknown(n)
			if c.Bool(n, n.Text, false) {
				c.Errorf(n, diag.APBadPolicy, "<ClientAuthEnabled>true</ClientAuthEnabled>: client certificates from Apigee keystores are not supported")
			}
		case "Protocols":
			c.Unknown(n, "Protocol")
			for _, pn := range n.Children {
				v, err := upstream.ParseTLSVersion(pn.Text)
				if err != nil || v == 0 {
					c.Errorf(pn, diag.APBadPolicy, "<Protocol> %q: want TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", pn.Text)
					continue
				}
				if sc.tls.MinVersion == 0 || v < sc.tls.MinVersion {
					sc.tls.MinVersion = v
				}
				if v > sc.tls.MaxVersion {
					sc.tls.MaxVersion = v
				}
			}
		case "Ciphers":
			c.Unknown(n, "Cipher")
			for _, cn := range n.Children {
				sc.tls.Ciphers = append(sc.tls.Ciphers, cn.Text)
			}
		}
	}
}

// Execute builds the request, calls the service and stores the response.
func (sc *serviceCallout) Execute(r *engine.Run) error {
	req, err := sc.requestMessage(r)
	if err != nil {
		return err
	}
	e := getOpEnv()
	*e = opEnv{r: r, vars: r, dst: req, src: r.Current(), strict: sc.strict, faults: sc}
	err = sc.ops.run(e)
	putOpEnv(e)
	if err != nil {
		return err
	}
	if sc.reqVar != "" {
		if m, ok := r.Message(sc.reqVar); !ok || m != req {
			r.SetMessage(sc.reqVar, req)
		}
	}
	call, err := sc.buildCall(r, req)
	if err != nil {
		return err
	}
	if sc.clearPayload {
		// clearPayload frees the request's content once it is sent.
		defer req.SetContent(nil)
	}
	if sc.respVar == "" {
		up, timeout := r.Upstream(), sc.timeout
		call.Timeout = timeout
		r.AfterResponse(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			_, _ = up.Do(ctx, call)
		})
		return nil
	}
	call.Timeout = r.Budget().Cap(sc.timeout)
	res, err := r.Upstream().Do(r.Ctx(), call)
	if err != nil {
		return fmt.Errorf("ServiceCallout %s: %w", sc.name, err)
	}
	if res.Err != nil {
		if res.Err.Kind == upstream.KindCanceled && r.Ctx().Err() != nil {
			return r.Ctx().Err()
		}
		return sc.failed(sc.reason(res.Err.Kind), res.Err)
	}
	resp := engine.NewResponse()
	resp.Status = res.Status
	keys := make([]string, 0, len(res.Header))
	for k := range res.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range res.Header[k] {
			resp.AddHeader(k, v)
		}
	}
	resp.SetContent(res.Body)
	r.SetMessage(sc.respVar, resp)
	if !sc.success.has(res.Status) {
		// Faultstring: Apigee's documented behaviour: the default fault bodies and status codes ("many captures").
		return sc.failed("ResponseCode "+strconv.Itoa(res.Status)+" is treated as error", nil)
	}
	return nil
}

// failed is ServiceCallout's one runtime fault, ExecutionFailed (500):
// Apigee reports both non-success answers and network failures with it
// (Apigee's documented behaviour: a backend 4xx/5xx without custom fault handling, the default fault bodies and status codes).
func (sc *serviceCallout) failed(reason string, cause error) error {
	return &engine.Fault{Name: "ExecutionFailed", Code: "steps.servicecallout.ExecutionFailed", Status: 500,
		Message: "Execution of ServiceCallout " + sc.name + " failed. Reason: " + reason, Err: cause}
}

// reason words a side-call failure for the faultstring without leaking
// addresses; the details go to the log through Fault.Err. The timeout
// wording is Apigee's ("Execution of ServiceCallout Logging failed.
// Reason: timeout occurred in Logging", discuss.google.dev thread
// "ServiceCallout ignore errors"); the others are flowproc's.
func (sc *serviceCallout) reason(k upstream.Kind) string {
	switch k {
	case upstream.KindTimeout:
		return "timeout occurred in " + sc.name
	case upstream.KindConnect:
		return "connection failed"
	case upstream.KindTLS:
		return "SSL handshake failed"
	case upstream.KindBodyTooLarge:
		return "response too large"
	}
	return "request failed (" + string(k) + ")"
}

// unresolved implements opFaults: Apigee's runtime fault (unresolvedRuntime).
func (sc *serviceCallout) unresolved(v string) error { return unresolvedRuntime(v) }

// setFailed implements opFaults.
func (sc *serviceCallout) setFailed(v string, err error) error {
	return &engine.Fault{Name: "ExecutionFailed", Code: "steps.servicecallout.ExecutionFailed", Status: 500,
		Message: "Execution of ServiceCallout " + sc.name + " failed. Reason: unable to set variable " + v, Err: err}
}

// unresolvedRuntime is Apigee's fault for a variable a ServiceCallout
// cannot resolve (Apigee's documented behaviour: the default fault bodies and status codes: messaging.runtime.UnresolvedVariable,
// "Unresolved variable : realm", seen with a ServiceCallout).
func unresolvedRuntime(v string) error {
	return &engine.Fault{Name: "UnresolvedVariable", Code: "messaging.runtime.UnresolvedVariable", Status: 500, Message: "Unresolved variable : " + v}
}

// requestMessage is the message the callout sends: the existing message
// variable <Request variable=> names, or a new request.
func (sc *serviceCallout) requestMessage(r *engine.Run) (*engine.Message, error) {
	if sc.reqVar == "" {
		return engine.NewRequest(), nil
	}
	if m, ok := sourceMessage(r, sc.reqVar); ok {
		return m, nil
	}
	if v, ok := r.Lookup(sc.reqVar); ok && v != nil {
		// Apigee's ServiceCallout runtime error page (the diagnosis
		// example's faultstring).
		return nil, &engine.Fault{Name: "RequestVariableNotMessageType", Code: "steps.servicecallout.RequestVariableNotMessageType", Status: 500,
			Message: "ServiceCallout[" + sc.name + "]: request variable " + sc.reqVar + " value is not of type Message"}
	}
	return engine.NewRequest(), nil
}

// hopHeaders are not copied from the request message to the side call:
// the client sets them for the connection it makes.
var hopHeaders = map[string]bool{"host": true, "content-length": true, "transfer-encoding": true, "connection": true}

// buildCall resolves the URL (the request message's path, when a policy
// set one, is appended to the URL's path; its query to the URL's query)
// and sets servicecallout.requesturi and servicecallout.<policy>.target.url.
func (sc *serviceCallout) buildCall(r *engine.Run, req *engine.Message) (*upstream.Call, error) {
	urlVar := "servicecallout." + sc.name + ".target.url"
	wroteVar := "flowproc.servicecallout." + sc.name + ".sent.url"
	raw, overridden := r.Get(urlVar)
	if overridden {
		// servicecallout.<policy>.target.url is read/write (Apigee's
		// variables reference): a value a flow set replaces the URL, as
		// the corpus's traffic-mirroring shared flow relies on. A value
		// this policy wrote itself on an earlier run is not an override.
		if wrote, ok := r.Get(wroteVar); ok && wrote == raw {
			overridden = false
		}
	}
	if !overridden {
		var miss string
		var err error
		raw, miss, err = sc.url.String(r)
		if err != nil {
			return nil, sc.failed("invalid URL", err)
		}
		if miss != "" {
			// The URL is always resolved strictly: an empty host or
			// path part would send the call elsewhere.
			return nil, unresolvedRuntime(miss)
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		if err == nil {
			err = errors.New("not an absolute http(s) URL")
		}
		return nil, sc.failed("invalid URL", fmt.Errorf("URL %q: %w", raw, err))
	}
	path := u.EscapedPath()
	if req.PathChanged() && req.Path != "" && req.Path != "/" {
		path = strings.TrimSuffix(path, "/") + "/" + strings.TrimPrefix(req.Path, "/")
	}
	if path == "" {
		path = "/"
	}
	q := u.RawQuery
	if rq := req.QueryString(); rq != "" {
		if q != "" {
			q += "&"
		}
		q += rq
	}
	uri := path
	if q != "" {
		uri += "?" + q
	}
	full := u.Scheme + "://" + u.Host + uri
	if err := r.Set("servicecallout.requesturi", uri); err != nil {
		return nil, err
	}
	if err := r.Set(urlVar, full); err != nil {
		return nil, err
	}
	if err := r.Set(wroteVar, full); err != nil {
		return nil, err
	}
	body, err := req.Content()
	if err != nil {
		return nil, fmt.Errorf("ServiceCallout %s: request content: %w", sc.name, err)
	}
	call := &upstream.Call{ID: sc.name, Method: req.Verb, URL: full, Body: body, ConnectTimeout: sc.connect, TLS: sc.tls}
	if max := r.MaxBodyBytes(); max > 0 {
		call.MaxBodyBytes = max
	}
	for _, h := range req.Headers {
		if !hopHeaders[strings.ToLower(h.Name)] {
			call.Headers = append(call.Headers, upstream.Field{Name: h.Name, Value: h.Value})
		}
	}
	return call, nil
}

// codeSet is a success.codes list: classes ("2xx") and single codes.
type codeSet struct {
	classes [6]bool
	codes   []int
}

// defaultSuccess is 1xx, 2xx and 3xx (Apigee's documented behaviour: a backend 4xx/5xx without custom fault handling).
var defaultSuccess = codeSet{classes: [6]bool{1: true, 2: true, 3: true}}

func (s codeSet) has(code int) bool {
	if code >= 100 && code < 600 && s.classes[code/100] {
		return true
	}
	for _, c := range s.codes {
		if c == code {
			return true
		}
	}
	return false
}

// parseCodes reads success.codes: a comma-separated list of classes
// ("2xx", also "2XX") and codes. It replaces the default list.
func parseCodes(src string) (codeSet, error) {
	var s codeSet
	n := 0
	for _, part := range strings.Split(src, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		n++
		if len(part) == 3 && part[1] == 'x' && part[2] == 'x' && part[0] >= '1' && part[0] <= '5' {
			s.classes[part[0]-'0'] = true
			continue
		}
		code, err := strconv.Atoi(part)
		if err != nil || code < 100 || code > 599 {
			return s, fmt.Errorf("%q is neither a status class (2xx) nor a status code", part)
		}
		s.codes = append(s.codes, code)
	}
	if n == 0 {
		return s, errors.New("empty list")
	}
	return s, nil
}
