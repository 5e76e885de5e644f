package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// connectionHeaders describe the caller's own connection, never the side
// call's: the client computes them itself, so a Call that copies them from
// the incoming request (a common FLAT pattern) does not break the wire.
var connectionHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Trailer": true,
}

// buildRequest turns a Call into an *http.Request (without a context). A
// Call that cannot be sent as given yields a KindInvalid error.
func (h *HTTP) buildRequest(c *Call) (*http.Request, *Error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the raw URL may hold a password
		}
		return nil, invalid("url: %v", err)
	}
	if c.ConnectTo.Scheme != "" {
		u.Scheme = strings.ToLower(c.ConnectTo.Scheme)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalid("url %q: scheme must be http or https", redactURL(c.URL))
	}
	if u.Host == "" {
		return nil, invalid("url %q: no host", redactURL(c.URL))
	}
	if len(c.Query) > 0 {
		var b strings.Builder
		b.WriteString(u.RawQuery)
		for _, q := range c.Query {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(q.Name))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(q.Value))
		}
		u.RawQuery = b.String()
	}
	if c.Cache.UseHTTPCache && c.Cache.ForceTTL > 0 {
		return nil, invalid("use-http-cache and force-cache-ttl are mutually exclusive")
	}
	if c.Cache.ForceTTL < 0 {
		return nil, invalid("force-cache-ttl must be > 0")
	}
	if c.Proxy.Server != "" && (c.ConnectTo.Host != "" || c.ConnectTo.Port != "") {
		return nil, invalid("proxy-server and transport-server/transport-port cannot be combined")
	}
	if len(c.Uploads) > 0 && len(c.Body) > 0 {
		return nil, invalid("a call has either a body or uploads, not both")
	}

	body, contentType := c.Body, c.ContentType
	if len(c.Uploads) > 0 {
		var e *Error
		if body, contentType, e = multipartBody(c.Uploads); e != nil {
			return nil, e
		}
	}
	method := strings.ToUpper(c.Method)
	if method == "" {
		method = http.MethodGet
		if len(c.Body) > 0 || len(c.Uploads) > 0 {
			method = http.MethodPost
		}
	}
	if !httpguts.ValidHeaderFieldName(method) {
		return nil, invalid("method %q", c.Method)
	}
	req := &http.Request{
		Method: method, URL: u, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, len(c.Headers)+3),
	}
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		req.Body = bytesBody(body)
		req.GetBody = func() (io.ReadCloser, error) { return bytesBody(body), nil }
	} else {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}

	for _, f := range c.Headers {
		if !httpguts.ValidHeaderFieldName(f.Name) {
			return nil, invalid("header name %q", f.Name)
		}
		if !httpguts.ValidHeaderFieldValue(f.Value) {
			return nil, invalid("header %s: invalid value", f.Name)
		}
		name := textproto.CanonicalMIMEHeaderKey(f.Name)
		switch {
		case name == "Host":
			if !httpguts.ValidHostHeader(f.Value) {
				return nil, invalid("Host header %q", f.Value)
			}
			req.Host = f.Value
		case connectionHeaders[name]:
		default:
			req.Header[name] = append(req.Header[name], f.Value)
		}
	}
	if _, ok := req.Header["User-Agent"]; !ok && h.defaults.UserAgent != "" {
		req.Header["User-Agent"] = []string{h.defaults.UserAgent}
	}
	if contentType != "" && (len(c.Uploads) > 0 || req.Header.Get("Content-Type") == "") {
		if !httpguts.ValidHeaderFieldValue(contentType) {
			return nil, invalid("content type %q", contentType)
		}
		req.Header["Content-Type"] = []string{contentType}
	}
	if len(c.Cookies) > 0 {
		parts := make([]string, 0, len(c.Cookies))
		for _, ck := range c.Cookies {
			if ck.Name == "" || !httpguts.ValidHeaderFieldName(ck.Name) ||
				strings.ContainsAny(ck.Value, ";") || !httpguts.ValidHeaderFieldValue(ck.Value) {
				return nil, invalid("cookie %q", ck.Name)
			}
			parts = append(parts, ck.Name+"="+ck.Value)
		}
		req.Header["Cookie"] = []string{strings.Join(parts, "; ")}
	}
	if c.BasicAuth != nil {
		req.SetBasicAuth(c.BasicAuth.User, c.BasicAuth.Password)
	}
	if c.SendXForwardedFor {
		if c.ClientIP == "" {
			return nil, invalid("send-x-forwarded-for without a client IP")
		}
		xff := c.ClientIP
		if c.ForwardedFor != "" {
			xff = c.ForwardedFor + ", " + c.ClientIP
		}
		req.Header["X-Forwarded-For"] = []string{xff}
	}
	return req, nil
}

// multipartBody encodes uploads as multipart/form-data.
func multipartBody(ups []Upload) ([]byte, string, *Error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, u := range ups {
		if u.Name == "" {
			return nil, "", invalid("upload without a name")
		}
		hdr := textproto.MIMEHeader{}
		disp := "form-data; name=" + quoteParam(u.Name)
		if u.Filename != "" {
			disp += "; filename=" + quoteParam(u.Filename)
		}
		hdr.Set("Content-Disposition", disp)
		ct := u.ContentType
		if ct == "" && u.Filename != "" {
			ct = "application/octet-stream"
		}
		if ct != "" {
			hdr.Set("Content-Type", ct)
		}
		p, err := w.CreatePart(hdr)
		if err != nil {
			return nil, "", invalid("upload %s: %v", u.Name, err)
		}
		if _, err := p.Write(u.Data); err != nil {
			return nil, "", invalid("upload %s: %v", u.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", invalid("uploads: %v", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// quoteParam quotes a Content-Disposition parameter value.
func quoteParam(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s) + `"`
}

func invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

func bytesBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
