package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/envoy"
)

func TestDevUpstreamsSet(t *testing.T) {
	tests := []struct {
		args    []string
		def     string
		hosts   map[string]string
		wantErr string
	}{
		{args: []string{"http://127.0.0.1:8080"}, def: "http://127.0.0.1:8080"},
		{args: []string{"api.example.com=http://127.0.0.1:9000", "http://127.0.0.1:8080", "Pay.Example:8443=https://127.0.0.1:9443"},
			def: "http://127.0.0.1:8080", hosts: map[string]string{"api.example.com": "http://127.0.0.1:9000", "pay.example:8443": "https://127.0.0.1:9443"}},
		{args: []string{"http://a:1", "http://b:2"}, wantErr: "only one default"},
		{args: []string{"ftp://a:1"}, wantErr: "want http(s)://host:port"},
		{args: []string{"http://a:1/base"}, wantErr: "want http(s)://host:port"},
		{args: []string{"api.example.com=127.0.0.1:9000"}, wantErr: "want http(s)://host:port"},
		{args: []string{"=http://a:1"}, wantErr: "want HOST=URL"},
		{args: []string{"a.test=http://a:1", "A.test=http://b:1"}, wantErr: "mapped twice"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var u devUpstreams
			var err error
			for _, a := range tc.args {
				if err = u.Set(a); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.def != tc.def || len(u.hosts) != len(tc.hosts) {
				t.Fatalf("got %q %v, want %q %v", u.def, u.hosts, tc.def, tc.hosts)
			}
			for h, v := range tc.hosts {
				if u.hosts[h] != v {
					t.Errorf("hosts[%s] = %q, want %q", h, u.hosts[h], v)
				}
			}
		})
	}
}

// TestDevRouter checks where the dev proxy sends requests under the shipped
// envoy.yaml: static clusters to the default upstream, origins a flow chose
// to their HOST=URL mapping (its scheme replacing the cluster's TLS), with
// the origin's Host header.
func TestDevRouter(t *testing.T) {
	server := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s host=%s", name, r.Host)
		}))
	}
	def, api := server("default"), server("api")
	defer def.Close()
	defer api.Close()
	var u devUpstreams
	for _, a := range []string{def.URL, "api.example.com=" + api.URL} {
		if err := u.Set(a); err != nil {
			t.Fatal(err)
		}
	}
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	r := u.router(fc, &envoy.HTTPUpstream{Addr: strings.TrimPrefix(def.URL, "http://")})
	defer r.CloseIdleConnections()
	tests := []struct {
		cluster, authority, want string
	}{
		{"upstream", "gw.local", "default host=gw.local"},
		{"origin_https", "api.example.com", "api host=api.example.com"},
		{"origin_http", "api.example.com:8080", "api host=api.example.com:8080"},
	}
	for _, tc := range tests {
		c := fc.Clusters[tc.cluster]
		if c == nil {
			t.Fatalf("shipped config has no cluster %s", tc.cluster)
		}
		resp, err := r.RoundTrip(context.Background(), &envoy.HTTPRequest{Method: "GET", Path: "/", Authority: tc.authority, Cluster: c})
		if err != nil {
			t.Fatalf("%s: %v", tc.cluster, err)
		}
		if string(resp.Body) != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.cluster, tc.authority, resp.Body, tc.want)
		}
	}
}

// FuzzDevUpstreamsSet: the -upstream parser never panics, and what it
// accepts is a valid upstream URL, stored under a lower-case host.
func FuzzDevUpstreamsSet(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080", "api.example.com=http://127.0.0.1:9000", "a:443=https://[::1]:9", "=x", "http://a=b", "h=ftp://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var u devUpstreams
		if err := u.Set(s); err != nil {
			return
		}
		if u.def != "" {
			if _, err := upstreamURL(u.def); err != nil {
				t.Fatalf("accepted default %q: %v", u.def, err)
			}
		}
		for h, v := range u.hosts {
			if h != strings.ToLower(h) {
				t.Fatalf("host %q not lower-cased", h)
			}
			if _, err := upstreamURL(v); err != nil {
				t.Fatalf("accepted mapping %q: %v", v, err)
			}
		}
	})
}
