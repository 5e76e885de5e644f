package flowengine

// Client is what the proxy knows of the downstream connection a request
// arrived on. The ext_proc server fills it from Envoy's request attributes
// (source.address, connection.mtls, …); fields Envoy did not send are
// empty. X-Forwarded-For is not consulted here: whether to trust it is a
// front end's (or the Envoy configuration's) decision.
type Client struct {
	// Address is the client's IP address (no port) and Port its port.
	Address string
	Port    int
	// TLS reports an encrypted connection, TLSVersion its version
	// ("TLSv1.3").
	TLS        bool
	TLSVersion string
	// MTLS reports that the client presented a certificate Envoy verified;
	// PeerSubject, PeerURISAN and PeerCertDigest (hex SHA-256) describe it.
	MTLS           bool
	PeerSubject    string
	PeerURISAN     string
	PeerCertDigest string
}

// ClientSource works out a request's Client when a run first needs it.
// extproc's reads Envoy's request attributes, which most flows never look
// at.
type ClientSource interface {
	Client() Client
}

// ClientInfo returns what the proxy knows of the downstream connection,
// asking r.ClientSource the first time. Like the rest of a Request, it is
// for the goroutine that runs the request.
func (r *Request) ClientInfo() *Client {
	if r.ClientSource != nil {
		r.Client = r.ClientSource.Client()
		r.ClientSource = nil
	}
	return &r.Client
}
