package engine

import (
	"context"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// TestReceivedStart: client.received.start.timestamp is the host's
// Request.Received when it gives one (extproc: the arrival of the request
// headers), and the run's start otherwise.
func TestReceivedStart(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml":  noTargetProxy,
		"apiproxy/policies/Pre.xml":     pol("Pre", `<Header name="x-pre">yes</Header>`),
		"apiproxy/policies/Cats.xml":    pol("Cats", `<Set name="flow.which">cats</Set>`),
		"apiproxy/policies/Any.xml":     pol("Any", `<Set name="flow.which">any</Set>`),
		"apiproxy/policies/RespHdr.xml": pol("RespHdr", `<Set name="response.header.x-start">{client.received.start.timestamp}</Set>`),
	})
	at := time.UnixMilli(1700000000123)
	for _, tc := range []struct {
		received time.Time
		check    func(ms int64) bool
	}{
		{at, func(ms int64) bool { return ms == at.UnixMilli() }},
		{time.Time{}, func(ms int64) bool { return time.Since(time.UnixMilli(ms)) < time.Minute }},
	} {
		req := &flowengine.Request{Method: "GET", Path: "/v1/dogs", ID: "rid", BodyKnownEmpty: true, Received: tc.received}
		o := p.Run(context.Background(), req, &fakeHost{})
		var got string
		for _, h := range append(o.SetHeaders, o.AddHeaders...) {
			if h.Name == "x-start" {
				got = h.Value
			}
		}
		var ms int64
		for _, c := range got {
			ms = ms*10 + int64(c-'0')
		}
		if got == "" || !tc.check(ms) {
			t.Errorf("received %v: client.received.start.timestamp %q", tc.received, got)
		}
	}
}
