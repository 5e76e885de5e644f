package upstream

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Field is one name/value pair: a header, a cookie or a query parameter.
// Order is kept and names may repeat.
type Field struct {
	Name  string
	Value string
}

// Upload is one part of a multipart/form-data body.
type Upload struct {
	// Name is the form field name.
	Name string
	// Filename, when set, is sent as the part's filename.
	Filename string
	// ContentType is the part's Content-Type; empty means
	// application/octet-stream when Filename is set and none otherwise.
	ContentType string
	// Data is the part's content.
	Data []byte
}

// Credentials is a user name and password (basic auth, proxy auth).
type Credentials struct {
	User     string
	Password string
}

// ParseCredentials splits FLAT's "user:pass" form at the first colon.
func ParseCredentials(s string) (Credentials, error) {
	user, pass, ok := strings.Cut(s, ":")
	if !ok {
		return Credentials{}, fmt.Errorf("upstream: credentials %q: want user:password", s)
	}
	return Credentials{User: user, Password: pass}, nil
}

// TLSOptions configure the TLS client side of one call.
type TLSOptions struct {
	// MinVersion and MaxVersion are tls.VersionTLS10… values; 0 is Go's
	// default. See ParseTLSVersion for FLAT's names.
	MinVersion uint16
	MaxVersion uint16
	// Ciphers are cipher suite names, IANA ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
	// or OpenSSL ("ECDHE-RSA-AES128-GCM-SHA256"); ParseCipherList splits
	// FLAT's tls-ciphers string. They restrict TLS 1.0–1.2 (as curl's
	// cipher list did for FLAT); Go does not make TLS 1.3 suites
	// configurable. Unknown names fail the call with KindInvalid.
	Ciphers []string
	// InsecureSkipVerify is FLAT's ignore-certificate-errors.
	InsecureSkipVerify bool
	// ClientCertPEM and ClientKeyPEM are the client certificate chain and
	// its private key. Both may be the same bytes (one .pem file holding
	// both). A key in legacy encrypted PEM ("Proc-Type: 4,ENCRYPTED") is
	// decrypted with ClientKeyPassword.
	ClientCertPEM     []byte
	ClientKeyPEM      []byte
	ClientKeyPassword string
	// ServerName overrides the SNI / verification name; empty means the
	// URL host.
	ServerName string
}

// ProxyOptions send the call through a forward HTTP proxy.
type ProxyOptions struct {
	// Server is FLAT's proxy-server: "host:port" or a URL
	// ("http://host:port"). Empty means no proxy; the process environment
	// (HTTP_PROXY) is never consulted.
	Server string
	// Credentials are sent as Proxy-Authorization basic credentials.
	Credentials *Credentials
}

// ConnectTo overrides where the connection goes without changing the URL
// (FLAT's transport-protocol / transport-server / transport-port): the
// Host header, SNI and certificate checks still use the URL's host.
type ConnectTo struct {
	// Scheme, when set ("http" or "https"), replaces the URL's scheme.
	Scheme string
	// Host, when set, is dialled instead of the URL's host.
	Host string
	// Port, when set, is dialled instead of the URL's port.
	Port string
}

// CacheOptions choose how the HTTP cache treats a call. The cache is only
// consulted for GET; the zero value bypasses it.
type CacheOptions struct {
	// UseHTTPCache stores and reuses responses following RFC 9111 as a
	// shared cache.
	UseHTTPCache bool
	// ForceTTL, when > 0, stores the response for exactly this long
	// whatever its cache headers say. Mutually exclusive with UseHTTPCache.
	ForceTTL time.Duration
	// ForceRefresh skips any stored response but stores the new one.
	ForceRefresh bool
	// RespectClientCacheHeaders applies the client's request directives
	// (ClientCacheControl, ClientPragma) as if they were sent to the cache.
	RespectClientCacheHeaders bool
	// ClientCacheControl and ClientPragma are the incoming client request's
	// Cache-Control and Pragma values.
	ClientCacheControl string
	ClientPragma       string
}

// enabled reports whether the call uses the cache at all.
func (o CacheOptions) enabled() bool { return o.UseHTTPCache || o.ForceTTL > 0 }

// Call is one side call, fully resolved: no templates, no variables.
type Call struct {
	// ID names the call (FLAT's request ID; "main" by default there). Mock
	// answers by it.
	ID string
	// Method defaults to GET, or POST when Body or Uploads are set.
	Method string
	// URL is absolute (http or https) and may carry a query string.
	URL string
	// Query pairs are appended to the URL's query, encoded.
	Query []Field
	// Headers are sent in order; repeated names send repeated fields. A
	// "Host" field sets the Host header. User-Agent defaults to
	// Defaults.UserAgent ("FLAT") when no field names it.
	Headers []Field
	// Cookies build the Cookie header and replace any Cookie in Headers.
	Cookies []Field
	// Body is the raw request body. ContentType is used when Headers name
	// no Content-Type.
	Body        []byte
	ContentType string
	// Uploads make a multipart/form-data body; Body must then be empty.
	Uploads []Upload

	// Timeout bounds the whole call, body included; ConnectTimeout the time
	// until a connection is ready (TLS included); TTFBTimeout the time until
	// the first response byte. Zero means Defaults; all are capped by
	// Defaults.MaxTimeout and by the context deadline, which always wins.
	Timeout        time.Duration
	ConnectTimeout time.Duration
	TTFBTimeout    time.Duration

	TLS       TLSOptions
	Proxy     ProxyOptions
	ConnectTo ConnectTo

	// FollowRedirects follows 3xx answers up to MaxRedirects (0 means
	// Defaults.MaxRedirects); more is KindTooManyRedirects.
	FollowRedirects bool
	MaxRedirects    int
	// BasicAuth sends an Authorization: Basic header.
	BasicAuth *Credentials
	// SendXForwardedFor adds ClientIP to X-Forwarded-For (after
	// ForwardedFor, the incoming header's value, when set). ClientIP must
	// then be set.
	SendXForwardedFor bool
	ClientIP          string
	ForwardedFor      string
	// DisableConnectionReuse closes the connection after the call.
	DisableConnectionReuse bool
	// MaxBodyBytes bounds the response body; 0 means Defaults.MaxBodyBytes.
	MaxBodyBytes int64

	Cache CacheOptions

	// SetResponseHeaders and ExitOnError are FLAT-level options carried
	// for the caller: the client never reads them. FLAT copies
	// SetResponseHeaders into the client response and turns a failed
	// Result into its error flow when ExitOnError is set.
	SetResponseHeaders []Field
	ExitOnError        bool
	// Extra is front-end data carried with the call (FLAT's upstream
	// OpenAPI checks); the client never reads it.
	Extra any
}

// ParseTLSVersion maps FLAT's tls-version names ("auto", "TLSv1",
// "TLSv1.0" … "TLSv1.3") to a crypto/tls version; "auto" and "" give 0.
func ParseTLSVersion(name string) (uint16, error) {
	switch name {
	case "", "auto":
		return 0, nil
	case "TLSv1", "TLSv1.0":
		return tls.VersionTLS10, nil
	case "TLSv1.1":
		return tls.VersionTLS11, nil
	case "TLSv1.2":
		return tls.VersionTLS12, nil
	case "TLSv1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("upstream: unknown tls-version %q", name)
}
