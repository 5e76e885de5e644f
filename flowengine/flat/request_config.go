package flat

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oasvalidate"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// requestDefaults are a request's values that come from the action's
// attributes: the JSON properties win over them (flat-docs
// reference/actions/request.md, "id", "url", "method").
type requestDefaults struct {
	id, url, method string
}

// buildCall turns one request configuration (FLAT docs: the request action) into a
// side call. r supplies variables, files and the client's address; it may
// be nil when a static configuration is checked at load, and then every
// reference to run state is accepted unchecked.
func (r *run) buildCall(cfg *dom.Node, def requestDefaults) (*upstream.Call, error) {
	if oxn.TypeOf(cfg) != oxn.Object {
		return nil, fmt.Errorf("the request configuration must be a JSON object")
	}
	c := &upstream.Call{ID: def.id, URL: def.url, Method: def.method}
	var (
		query      *dom.Node
		post, body *dom.Node
		uploads    *dom.Node
		options    *dom.Node
		rawChars   string
	)
	for m := cfg.FirstChild; m != nil; m = m.NextSibling {
		if m.Type != dom.ElementNode {
			continue
		}
		key, t := oxn.Key(m), oxn.TypeOf(m)
		if t == oxn.Null {
			continue
		}
		switch key {
		case "id", "url", "method", "encoding":
			if t != oxn.String {
				return nil, fmt.Errorf("%q must be a string", key)
			}
			v := m.StringValue()
			switch {
			case v == "":
			case key == "id":
				c.ID = v
			case key == "url":
				c.URL = v
			case key == "method":
				c.Method = strings.ToUpper(v)
			case !strings.EqualFold(v, "UTF-8") && !strings.EqualFold(v, "UTF8"):
				return nil, fmt.Errorf("\"encoding\" %q is not supported (only UTF-8)", v)
			}
		case "headers":
			if t != oxn.Object {
				return nil, fmt.Errorf("\"headers\" must be an object")
			}
			for h := m.FirstChild; h != nil; h = h.NextSibling {
				if h.Type != dom.ElementNode || oxn.TypeOf(h) == oxn.Null {
					continue
				}
				name := oxn.Key(h)
				v, ok := scalarString(h)
				if !ok {
					return nil, fmt.Errorf("headers: %q must be a string, number or boolean", name)
				}
				if !validHeaderName(name) {
					return nil, fmt.Errorf("headers: invalid header name %q", name)
				}
				if err := checkHeaderValue(v); err != nil {
					return nil, fmt.Errorf("headers: %q: %w", name, err)
				}
				c.Headers = append(c.Headers, upstream.Field{Name: name, Value: v})
			}
		case "cookies":
			fs, err := pairs(m, "cookies")
			if err != nil {
				return nil, err
			}
			c.Cookies = fs
		case "query":
			query = m
		case "post":
			post = m
		case "body":
			body = m
		case "uploads":
			uploads = m
		case "options":
			if t != oxn.Object {
				return nil, fmt.Errorf("\"options\" must be an object")
			}
			options = m
		default:
			return nil, fmt.Errorf("unknown property %q (known: id, url, method, encoding, headers, cookies, query, post, body, uploads, options)", key)
		}
	}
	if options != nil {
		if err := r.applyOptions(c, options, &rawChars); err != nil {
			return nil, fmt.Errorf("options: %w", err)
		}
	}
	if c.URL == "" {
		return nil, fmt.Errorf("\"url\" is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("\"url\" %q is not an absolute http(s) URL", c.URL)
	}
	if query != nil {
		q, err := encodePairs(query, "query", rawChars)
		if err != nil {
			return nil, err
		}
		u.RawQuery = q
		c.URL = u.String()
	}
	switch {
	case post != nil:
		form, err := encodePairs(post, "post", "")
		if err != nil {
			return nil, err
		}
		if oxn.TypeOf(post) == oxn.String {
			return nil, fmt.Errorf("\"post\" must be an object or an array of {name, value}")
		}
		c.Body, c.ContentType = []byte(form), "application/x-www-form-urlencoded"
	case body != nil:
		b, mt, err := r.bodySource(body, "body")
		if err != nil {
			return nil, err
		}
		c.Body, c.ContentType = b, mt
	}
	if uploads != nil {
		if post != nil || body != nil {
			return nil, fmt.Errorf("\"uploads\" cannot be combined with \"post\" or \"body\"")
		}
		if oxn.TypeOf(uploads) != oxn.Array {
			return nil, fmt.Errorf("\"uploads\" must be an array")
		}
		for i, it := range items(uploads) {
			if oxn.TypeOf(it) != oxn.Object {
				return nil, fmt.Errorf("uploads[%d] must be an object", i)
			}
			name, _ := scalarString(it.Child("name"))
			if name == "" {
				return nil, fmt.Errorf("uploads[%d] needs a \"name\"", i)
			}
			data, mt, err := r.bodySource(it, fmt.Sprintf("uploads[%d]", i))
			if err != nil {
				return nil, err
			}
			fn, _ := scalarString(it.Child("filename"))
			c.Uploads = append(c.Uploads, upstream.Upload{Name: name, Filename: fn, ContentType: mt, Data: data})
		}
	}
	if c.Method == "" {
		c.Method = "GET"
		if post != nil || body != nil || uploads != nil {
			c.Method = "POST"
		}
	}
	if !validToken(c.Method) {
		return nil, fmt.Errorf("\"method\" %q is not an HTTP method", c.Method)
	}
	return c, nil
}

// validToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, ch) >= 0 {
			return false
		}
	}
	return true
}

// pairs reads FLAT's name/value forms: an object {k: v} or an array of
// {name, value} objects (cookies, query, post).
func pairs(n *dom.Node, what string) ([]upstream.Field, error) {
	var out []upstream.Field
	switch oxn.TypeOf(n) {
	case oxn.Object:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != dom.ElementNode || oxn.TypeOf(c) == oxn.Null {
				continue
			}
			v, ok := scalarString(c)
			if !ok {
				return nil, fmt.Errorf("%s: %q must be a string, number or boolean", what, oxn.Key(c))
			}
			out = append(out, upstream.Field{Name: oxn.Key(c), Value: v})
		}
	case oxn.Array:
		for i, it := range items(n) {
			if oxn.TypeOf(it) != oxn.Object {
				return nil, fmt.Errorf("%s[%d] must be an object with \"name\" and \"value\"", what, i)
			}
			name, _ := scalarString(it.Child("name"))
			vn := it.Child("value")
			if name == "" || vn == nil {
				return nil, fmt.Errorf("%s[%d] needs a non-empty \"name\" and a \"value\"", what, i)
			}
			v, ok := scalarString(vn)
			if !ok && oxn.TypeOf(vn) != oxn.Null {
				return nil, fmt.Errorf("%s[%d]: \"value\" must be a string, number or boolean", what, i)
			}
			out = append(out, upstream.Field{Name: name, Value: v})
		}
	default:
		return nil, fmt.Errorf("%q must be an object or an array of {name, value}", what)
	}
	return out, nil
}

// encodePairs renders a query or form: a string is taken as it is (without
// a leading "?"), objects and arrays are URL-encoded; bytes in raw stay
// unencoded (FLAT's query-encoding-raw-chars).
func encodePairs(n *dom.Node, what, raw string) (string, error) {
	if oxn.TypeOf(n) == oxn.String {
		return strings.TrimPrefix(n.StringValue(), "?"), nil
	}
	fs, err := pairs(n, what)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(f.Name, raw))
		b.WriteByte('=')
		b.WriteString(queryEscape(f.Value, raw))
	}
	return b.String(), nil
}

// queryEscape is url.QueryEscape that leaves the bytes of raw alone.
func queryEscape(s, raw string) string {
	if raw == "" {
		return url.QueryEscape(s)
	}
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(raw, s[i]) >= 0 {
			b.WriteString(url.QueryEscape(s[start:i]))
			b.WriteByte(s[i])
			start = i + 1
		}
	}
	b.WriteString(url.QueryEscape(s[start:]))
	return b.String()
}

// bodySource reads {src | value, mime}: a body or an upload part.
func (r *run) bodySource(n *dom.Node, what string) ([]byte, string, error) {
	if oxn.TypeOf(n) != oxn.Object {
		return nil, "", fmt.Errorf("%q must be an object with \"src\" or \"value\"", what)
	}
	src, value := n.Child("src"), n.Child("value")
	if src != nil && oxn.TypeOf(src) == oxn.Null {
		src = nil
	}
	if (src == nil) == (value == nil) {
		return nil, "", fmt.Errorf("%s needs exactly one of \"src\" or \"value\"", what)
	}
	mt := ""
	if m := n.Child("mime"); m != nil && oxn.TypeOf(m) != oxn.Null {
		if oxn.TypeOf(m) != oxn.String {
			return nil, "", fmt.Errorf("%s: \"mime\" must be a string", what)
		}
		mt = m.StringValue()
	}
	var data []byte
	detected := ""
	if src != nil {
		if oxn.TypeOf(src) != oxn.String || src.StringValue() == "" {
			return nil, "", fmt.Errorf("%s: \"src\" must be a non-empty string", what)
		}
		if r == nil { // checked at load: the source is read per request
			return nil, mt, nil
		}
		var err error
		data, detected, err = r.readLocation(src.StringValue())
		if err != nil {
			return nil, "", fmt.Errorf("%s: src %q: %w", what, src.StringValue(), err)
		}
	} else {
		switch oxn.TypeOf(value) {
		case oxn.String:
			data, detected = []byte(value.StringValue()), "text/plain"
		default:
			var b bytes.Buffer
			if err := oxn.Write(&b, value); err != nil {
				return nil, "", fmt.Errorf("%s: value: %w", what, err)
			}
			data, detected = b.Bytes(), "application/json"
		}
	}
	if mt == "" {
		mt = detected
	}
	return data, mt, nil
}

// applyOptions reads the options object of FLAT docs: the request action into c. Options flowproc
// cannot honour (upstream OpenAPI validation and mocking) are errors, not
// ignored.
func (r *run) applyOptions(c *upstream.Call, opts *dom.Node, rawChars *string) error {
	for o := opts.FirstChild; o != nil; o = o.NextSibling {
		if o.Type != dom.ElementNode || oxn.TypeOf(o) == oxn.Null {
			continue
		}
		name := oxn.Key(o)
		var err error
		switch name {
		case "timeout":
			c.Timeout, err = seconds(o)
		case "connect-timeout":
			c.ConnectTimeout, err = seconds(o)
		case "time-to-first-byte-timeout":
			c.TTFBTimeout, err = seconds(o)
		case "send-x-forwarded-for":
			c.SendXForwardedFor, err = boolean(o)
		case "set-response-headers":
			c.SetResponseHeaders, err = responseHeaderFields(o)
		case "tls-version":
			var v string
			if v, err = str(o); err == nil {
				c.TLS.MinVersion, err = upstream.ParseTLSVersion(v)
				c.TLS.MaxVersion = c.TLS.MinVersion
			}
		case "tls-ciphers":
			var v string
			if v, err = str(o); err == nil {
				c.TLS.Ciphers = strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
			}
		case "ignore-certificate-errors":
			c.TLS.InsecureSkipVerify, err = boolean(o)
		case "client-certificate-file":
			var v string
			if v, err = str(o); err == nil && r != nil {
				var pem []byte
				pem, _, err = r.readLocation(v)
				c.TLS.ClientCertPEM, c.TLS.ClientKeyPEM = pem, pem
			}
		case "client-certificate-password":
			c.TLS.ClientKeyPassword, err = str(o)
		case "transport-protocol":
			var v string
			if v, err = str(o); err == nil {
				if v != "http" && v != "https" {
					err = fmt.Errorf("want \"http\" or \"https\", not %q", v)
				}
				c.ConnectTo.Scheme = v
			}
		case "transport-server":
			c.ConnectTo.Host, err = str(o)
		case "transport-port":
			var n int
			if n, err = integer(o); err == nil {
				if n < 1 || n > 65535 {
					err = fmt.Errorf("port %d out of range", n)
				}
				c.ConnectTo.Port = strconv.Itoa(n)
			}
		case "proxy-server":
			c.Proxy.Server, err = str(o)
		case "proxy-credentials":
			var v string
			if v, err = str(o); err == nil {
				var cr upstream.Credentials
				cr, err = upstream.ParseCredentials(v)
				c.Proxy.Credentials = &cr
			}
		case "basic-auth-credentials":
			var v string
			if v, err = str(o); err == nil {
				var cr upstream.Credentials
				cr, err = upstream.ParseCredentials(v)
				c.BasicAuth = &cr
			}
		case "use-http-cache":
			c.Cache.UseHTTPCache, err = boolean(o)
		case "force-cache-ttl":
			var n int
			if n, err = integer(o); err == nil {
				if n <= 0 {
					err = fmt.Errorf("must be > 0")
				}
				c.Cache.ForceTTL = time.Duration(n) * time.Second
			}
		case "force-cache-refresh":
			c.Cache.ForceRefresh, err = boolean(o)
		case "respect-client-cache-headers":
			c.Cache.RespectClientCacheHeaders, err = boolean(o)
		case "follow-redirects":
			c.FollowRedirects, err = boolean(o)
		case "max-redirects":
			var n int
			if n, err = integer(o); err == nil && n < 0 {
				err = fmt.Errorf("must be >= 0")
			}
			c.MaxRedirects = n
		case "query-encoding-raw-chars":
			*rawChars, err = str(o)
		case "disable-connection-reuse":
			c.DisableConnectionReuse, err = boolean(o)
		case "exit-on-error":
			c.ExitOnError, err = boolean(o)
			if uc, _ := c.Extra.(*upCheck); uc != nil {
				uc.exitSet = true
			} else if err == nil {
				c.Extra = &upCheck{exitSet: true}
			}
		case "validate-request", "validate-response", "validate-request-security":
			var m oasvalidate.Mode
			if m, err = parseCheckMode(o); err == nil {
				uc := upCheckOf(c)
				switch name {
				case "validate-request":
					uc.req, uc.reqSet = m, true
				case "validate-response":
					uc.resp, uc.respSet = m, true
				default:
					uc.sec = m
				}
			}
		case "mock-response":
			var b bool
			if b, err = boolean(o); err == nil {
				upCheckOf(c).mock = b
			}
		case "definition":
			var v string
			if v, err = str(o); err == nil {
				if v == "" {
					err = fmt.Errorf("must name a file")
				}
				upCheckOf(c).definition = v
			}
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
	}
	if uc, _ := c.Extra.(*upCheck); uc != nil && uc.definition == "" && (uc.req != oasvalidate.Off || uc.resp != oasvalidate.Off || uc.sec != oasvalidate.Off || uc.mock) {
		return fmt.Errorf("\"validate-request\", \"validate-request-security\", \"validate-response\" and \"mock-response\" need a \"definition\"")
	}
	if c.Cache.UseHTTPCache && c.Cache.ForceTTL > 0 {
		return fmt.Errorf("\"use-http-cache\" and \"force-cache-ttl\" are mutually exclusive")
	}
	return nil
}

func str(n *dom.Node) (string, error) {
	if oxn.TypeOf(n) != oxn.String {
		return "", fmt.Errorf("must be a string")
	}
	return n.StringValue(), nil
}

func boolean(n *dom.Node) (bool, error) {
	if oxn.TypeOf(n) != oxn.Boolean {
		return false, fmt.Errorf("must be a boolean")
	}
	return n.StringValue() == "true", nil
}

// number reads a JSON number, or a string holding one.
func number(n *dom.Node) (float64, error) {
	switch oxn.TypeOf(n) {
	case oxn.Number, oxn.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(n.StringValue()), 64)
		if err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("must be a number")
}

func integer(n *dom.Node) (int, error) {
	f, err := number(n)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("must be an integer")
	}
	return int(f), nil
}

func seconds(n *dom.Node) (time.Duration, error) {
	f, err := number(n)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > 86400 {
		return 0, fmt.Errorf("%v seconds out of range", f)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// responseHeaderFields reads set-response-headers: name → string or array
// of strings.
func responseHeaderFields(n *dom.Node) ([]upstream.Field, error) {
	if oxn.TypeOf(n) != oxn.Object {
		return nil, fmt.Errorf("must be an object")
	}
	var out []upstream.Field
	for h := n.FirstChild; h != nil; h = h.NextSibling {
		if h.Type != dom.ElementNode || oxn.TypeOf(h) == oxn.Null {
			continue
		}
		name := oxn.Key(h)
		if !validHeaderName(name) {
			return nil, fmt.Errorf("invalid header name %q", name)
		}
		vals := []*dom.Node{h}
		if oxn.TypeOf(h) == oxn.Array {
			vals = items(h)
		}
		for _, v := range vals {
			s, ok := scalarString(v)
			if !ok {
				return nil, fmt.Errorf("%q: want a string or an array of strings", name)
			}
			if err := checkHeaderValue(s); err != nil {
				return nil, fmt.Errorf("%q: %w", name, err)
			}
			out = append(out, upstream.Field{Name: name, Value: s})
		}
	}
	return out, nil
}
