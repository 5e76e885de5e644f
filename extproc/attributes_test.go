package extproc

import (
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flowproc/flowproc/flowengine"
)

func TestClientFromAttributes(t *testing.T) {
	attrs := func(m map[string]any) *extprocv3.ProcessingRequest {
		st, err := structpb.NewStruct(m)
		if err != nil {
			t.Fatal(err)
		}
		return &extprocv3.ProcessingRequest{Attributes: map[string]*structpb.Struct{attributesKey: st}}
	}
	tests := []struct {
		name string
		req  *extprocv3.ProcessingRequest
		want flowengine.Client
	}{
		{"none", &extprocv3.ProcessingRequest{}, flowengine.Client{}},
		{"other key only", &extprocv3.ProcessingRequest{Attributes: map[string]*structpb.Struct{"my-filter": {}}}, flowengine.Client{}},
		{"plaintext IPv4", attrs(map[string]any{"source.address": "10.1.2.3:51000", "source.port": 51000.0, "connection.mtls": false}),
			flowengine.Client{Address: "10.1.2.3", Port: 51000}},
		{"IPv6 without port attribute", attrs(map[string]any{"source.address": "[::1]:443"}), flowengine.Client{Address: "::1", Port: 443}},
		{"address without port", attrs(map[string]any{"source.address": "192.0.2.7"}), flowengine.Client{Address: "192.0.2.7"}},
		{"mTLS", attrs(map[string]any{"source.address": "192.0.2.7:1", "connection.tls_version": "TLSv1.3", "connection.mtls": true,
			"connection.subject_peer_certificate": "CN=client", "connection.uri_san_peer_certificate": "spiffe://x/y",
			"connection.sha256_peer_certificate_digest": "abcd"}),
			flowengine.Client{Address: "192.0.2.7", Port: 1, TLS: true, TLSVersion: "TLSv1.3", MTLS: true, PeerSubject: "CN=client", PeerURISAN: "spiffe://x/y", PeerCertDigest: "abcd"}},
		{"wrong types are ignored", attrs(map[string]any{"source.address": 5.0, "connection.mtls": "yes"}), flowengine.Client{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientFromAttributes(tt.req); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCodeDetailsFromAttributes(t *testing.T) {
	attrs := func(m map[string]any) *extprocv3.ProcessingRequest {
		st, err := structpb.NewStruct(m)
		if err != nil {
			t.Fatal(err)
		}
		return &extprocv3.ProcessingRequest{Attributes: map[string]*structpb.Struct{attributesKey: st}}
	}
	tests := []struct {
		name string
		req  *extprocv3.ProcessingRequest
		want string
	}{
		{"none", &extprocv3.ProcessingRequest{}, ""},
		{"other key only", &extprocv3.ProcessingRequest{Attributes: map[string]*structpb.Struct{"my-filter": {}}}, ""},
		{"upstream response", attrs(map[string]any{"response.code_details": "via_upstream", "response.code": 200.0}), "via_upstream"},
		{"connection failure", attrs(map[string]any{"response.code_details": "upstream_reset_before_response_started{connection_failure}", "response.flags": 32.0}),
			"upstream_reset_before_response_started{connection_failure}"},
		{"route timeout", attrs(map[string]any{"response.code_details": "response_timeout"}), "response_timeout"},
		{"wrong type is ignored", attrs(map[string]any{"response.code_details": 5.0}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeDetailsFromAttributes(tt.req); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
