package upstream

import (
	"crypto/tls"
	"testing"
	"time"
)

func TestDefaultsFromEnv(t *testing.T) {
	std := StandardDefaults()
	tests := []struct {
		name    string
		env     map[string]string
		want    func(d *Defaults)
		wantErr bool
	}{
		{"none", nil, func(*Defaults) {}, false},
		{"all", map[string]string{"FLAT_DEFAULT_TIMEOUT": "5", "FLAT_DEFAULT_CONNECT_TIMEOUT": "0.5", "FLAT_DEFAULT_TTFB_TIMEOUT": "2", "FLAT_MAX_TIMEOUT": "10"},
			func(d *Defaults) {
				d.Timeout, d.ConnectTimeout, d.TTFBTimeout, d.MaxTimeout = 5*time.Second, 500*time.Millisecond, 2*time.Second, 10*time.Second
			}, false},
		{"doc spelling", map[string]string{"FLAT_FETCH_DEFAULT_TIMEOUT": "7"}, func(d *Defaults) { d.Timeout = 7 * time.Second }, false},
		{"first spelling wins", map[string]string{"FLAT_DEFAULT_TIMEOUT": "4", "FLAT_FETCH_DEFAULT_TIMEOUT": "7"}, func(d *Defaults) { d.Timeout = 4 * time.Second }, false},
		{"zero connect means total", map[string]string{"FLAT_DEFAULT_CONNECT_TIMEOUT": "0"}, func(*Defaults) {}, false},
		{"zero total", map[string]string{"FLAT_DEFAULT_TIMEOUT": "0"}, nil, true},
		{"negative", map[string]string{"FLAT_MAX_TIMEOUT": "-1"}, nil, true},
		{"not a number", map[string]string{"FLAT_DEFAULT_TTFB_TIMEOUT": "3s"}, nil, true},
		{"huge", map[string]string{"FLAT_DEFAULT_TIMEOUT": "1e9"}, nil, true},
		{"NaN", map[string]string{"FLAT_DEFAULT_TIMEOUT": "NaN"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DefaultsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %+v", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := std
			tt.want(&want)
			if d != want {
				t.Errorf("got %+v\nwant %+v", d, want)
			}
		})
	}
}

func TestNewHTTPFillsDefaults(t *testing.T) {
	h := NewHTTP(HTTPOptions{Defaults: Defaults{Timeout: time.Second}})
	d := h.Defaults()
	std := StandardDefaults()
	if d.Timeout != time.Second || d.UserAgent != "FLAT" || d.MaxBodyBytes != std.MaxBodyBytes ||
		d.MaxRedirects != std.MaxRedirects || d.RevalidateGrace != std.RevalidateGrace {
		t.Errorf("defaults %+v", d)
	}
}

func TestParseTLSVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    uint16
		wantErr bool
	}{
		{"", 0, false}, {"auto", 0, false}, {"TLSv1", tls.VersionTLS10, false}, {"TLSv1.0", tls.VersionTLS10, false},
		{"TLSv1.1", tls.VersionTLS11, false}, {"TLSv1.2", tls.VersionTLS12, false}, {"TLSv1.3", tls.VersionTLS13, false},
		{"SSLv3", 0, true}, {"tlsv1.2", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseTLSVersion(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTLSVersion(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		in      string
		want    Credentials
		wantErr bool
	}{
		{"u:p", Credentials{"u", "p"}, false},
		{"u:p:q", Credentials{"u", "p:q"}, false},
		{":", Credentials{}, false},
		{"u:", Credentials{"u", ""}, false},
		{"nocolon", Credentials{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCredentials(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCredentials(%q) = %+v, %v", tt.in, got, err)
		}
	}
}
