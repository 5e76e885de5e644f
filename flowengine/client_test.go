package flowengine

import "testing"

// countingSource is a ClientSource that counts its calls.
type countingSource struct{ calls int }

func (s *countingSource) Client() Client {
	s.calls++
	return Client{Address: "192.0.2.7", Port: 443, TLS: true}
}

// TestClientInfo: ClientSource is asked once, on first use; without one,
// ClientInfo gives Client as it was set.
func TestClientInfo(t *testing.T) {
	src := &countingSource{}
	r := &Request{ClientSource: src}
	if src.calls != 0 {
		t.Fatal("source asked before anything read the client")
	}
	for range 3 {
		if c := r.ClientInfo(); c.Address != "192.0.2.7" || c.Port != 443 || !c.TLS {
			t.Fatalf("ClientInfo = %+v", c)
		}
	}
	if src.calls != 1 {
		t.Errorf("source asked %d times, want once", src.calls)
	}
	r.ClientInfo().Address = "198.51.100.1" // a test run setting client.ip
	if got := r.ClientInfo().Address; got != "198.51.100.1" {
		t.Errorf("after a change: %q", got)
	}
	plain := &Request{Client: Client{Address: "203.0.113.9"}}
	if got := plain.ClientInfo().Address; got != "203.0.113.9" {
		t.Errorf("no source: %q", got)
	}
}
