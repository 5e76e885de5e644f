package loadgen

import (
	"encoding/json"
	"strings"
	"testing"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/flowproc/flowproc/envoy"
)

func TestWithModes(t *testing.T) {
	type pm = extprocfilterv3.ProcessingMode
	tests := []struct {
		name    string
		specs   []string
		check   func(p *pm) bool
		wantErr string
	}{
		{name: "no overrides keep envoy.yaml's mode", check: func(p *pm) bool {
			return p.GetRequestHeaderMode() == extprocfilterv3.ProcessingMode_SEND && p.GetRequestBodyMode() == extprocfilterv3.ProcessingMode_NONE &&
				p.GetRequestTrailerMode() == extprocfilterv3.ProcessingMode_SKIP
		}},
		{name: "buffered request body", specs: []string{"request_body=BUFFERED"}, check: func(p *pm) bool {
			return p.GetRequestBodyMode() == extprocfilterv3.ProcessingMode_BUFFERED && p.GetResponseBodyMode() == extprocfilterv3.ProcessingMode_NONE
		}},
		{name: "comma list, lower case, spaces", specs: []string{"request_body=streamed, response_body = buffered"}, check: func(p *pm) bool {
			return p.GetRequestBodyMode() == extprocfilterv3.ProcessingMode_STREAMED && p.GetResponseBodyMode() == extprocfilterv3.ProcessingMode_BUFFERED
		}},
		{name: "repeated specs, later wins", specs: []string{"response_headers=SKIP", "response_headers=SEND", "request_trailers=SEND"}, check: func(p *pm) bool {
			return p.GetResponseHeaderMode() == extprocfilterv3.ProcessingMode_SEND && p.GetRequestTrailerMode() == extprocfilterv3.ProcessingMode_SEND
		}},
		{name: "singular phase names", specs: []string{"response_header=SKIP"}, check: func(p *pm) bool {
			return p.GetResponseHeaderMode() == extprocfilterv3.ProcessingMode_SKIP
		}},
		{name: "no equals sign", specs: []string{"BUFFERED"}, wantErr: "want phase=MODE"},
		{name: "unknown phase", specs: []string{"body=BUFFERED"}, wantErr: "unknown phase"},
		{name: "body mode for headers", specs: []string{"request_headers=BUFFERED"}, wantErr: "SEND, SKIP or DEFAULT"},
		{name: "header mode for a body", specs: []string{"response_body=SEND"}, wantErr: "NONE, STREAMED"},
	}
	base, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	before := base.Filter.GetProcessingMode().String()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc, err := WithModes(base, tc.specs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(fc.Filter.GetProcessingMode()) {
				t.Errorf("processing mode = %v", fc.Filter.GetProcessingMode())
			}
			if !fc.Filter.GetAllowModeOverride() {
				t.Error("the rest of the filter config was lost (allow_mode_override)")
			}
		})
	}
	if after := base.Filter.GetProcessingMode().String(); after != before {
		t.Errorf("WithModes modified its input: %s → %s", before, after)
	}
}

func TestDescribeModes(t *testing.T) {
	fc, err := WithModes(envoy.NewFilterConfig(nil), []string{"request_body=BUFFERED"})
	if err != nil {
		t.Fatal(err)
	}
	want := "request: headers SEND, body BUFFERED, trailers SKIP; response: headers SEND, body NONE, trailers SKIP"
	if got := DescribeModes(fc); got != want {
		t.Errorf("DescribeModes = %q, want %q", got, want)
	}
}

func TestJSONBody(t *testing.T) {
	for _, size := range []int{12, 13, 40, 41, 100, 1024, 65536} {
		b := JSONBody(size)
		if len(b) != size {
			t.Errorf("JSONBody(%d) has %d bytes", size, len(b))
		}
		var doc struct {
			Items []struct {
				Name  string `json:"name"`
				Price int    `json:"price"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("JSONBody(%d) is not JSON: %v", size, err)
		}
		if size >= 100 && (len(doc.Items) == 0 || doc.Items[0].Name != "item-0001" || doc.Items[0].Price != 2) {
			t.Errorf("JSONBody(%d) items = %+v", size, doc.Items)
		}
	}
	if b := JSONBody(0); b != nil {
		t.Errorf("JSONBody(0) = %q, want nil", b)
	}
}
