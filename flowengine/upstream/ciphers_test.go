package upstream

import (
	"crypto/tls"
	"reflect"
	"testing"
)

func TestParseCipherList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"A:B", []string{"A", "B"}},
		{" A, B  C:", []string{"A", "B", "C"}},
	}
	for _, tt := range tests {
		if got := ParseCipherList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCipherList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCipherIDs(t *testing.T) {
	for alias, iana := range opensslCipherNames {
		ids, e := cipherIDs([]string{alias})
		if e != nil {
			t.Errorf("%s (%s): %v", alias, iana, e)
			continue
		}
		if got := tls.CipherSuiteName(ids[0]); got != iana {
			t.Errorf("%s maps to %s, want %s", alias, got, iana)
		}
	}
	tests := []struct {
		in      []string
		want    []uint16
		wantErr bool
	}{
		{[]string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ecdhe-rsa-aes256-gcm-sha384"},
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, false},
		{[]string{"TLS_AES_128_GCM_SHA256"}, []uint16{tls.TLS_AES_128_GCM_SHA256}, false},
		{[]string{"HIGH"}, nil, true},
		{[]string{"!aNULL"}, nil, true},
	}
	for _, tt := range tests {
		got, e := cipherIDs(tt.in)
		if (e != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("cipherIDs(%q) = %v, %v", tt.in, got, e)
		}
	}
}
