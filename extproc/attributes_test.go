package extproc

import (
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flowproc/flowproc/extproc/reqdecode"
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
			for form, req := range asDecoded(t, tt.req) {
				if got := clientFromAttributes(req); got != tt.want {
					t.Errorf("%s: got %+v, want %+v", form, got, tt.want)
				}
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
			for form, req := range asDecoded(t, tt.req) {
				if got := codeDetailsFromAttributes(req); got != tt.want {
					t.Errorf("%s: got %q, want %q", form, got, tt.want)
				}
			}
		})
	}
}

// asDecoded returns req as built (its attributes in maps) and as the
// server's codec decodes it from the wire (the attributes kept as they
// came, reqdecode's attributes.go).
func asDecoded(t *testing.T, req *extprocv3.ProcessingRequest) map[string]*extprocv3.ProcessingRequest {
	t.Helper()
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	decoded := new(extprocv3.ProcessingRequest)
	if err := reqdecode.Unmarshal(data, decoded); err != nil {
		t.Fatal(err)
	}
	if len(req.Attributes) > 0 && (decoded.Attributes != nil || len(decoded.ProtoReflect().GetUnknown()) == 0) {
		t.Fatal("the decoded message's attributes were not kept as they came")
	}
	return map[string]*extprocv3.ProcessingRequest{"built": req, "decoded": decoded}
}
