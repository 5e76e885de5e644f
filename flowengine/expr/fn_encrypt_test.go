package expr

import (
	"errors"
	"strings"
	"testing"
)

func TestFnEncrypt(t *testing.T) {
	sc := cryptoScope(t)
	sc["long"] = strings.Repeat("x", 300)
	runIn(t, sc, []fnCase{
		{"decrypt(encrypt($data, $rsa_pub), $rsa)", `"my data"`},
		{"decrypt(encrypt($data, $rsa_pub_bare), $rsa)", `"my data"`},
		{"decrypt(encrypt($data, $rsa_cert), $rsa)", `"my data"`},
		{"decrypt(encrypt($data, $rsa_cert_bare), $rsa)", `"my data"`},
		{"decrypt(encrypt('', $rsa_pub), $rsa)", `""`},
		{"string-length(encrypt($data, $rsa_pub))", "344"},               // 256 bytes in Base64
		{"encrypt($data, $rsa_pub) = encrypt($data, $rsa_pub)", "false"}, // randomized
	})
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"encrypt($data, $ec_pub)", ErrKey},
		{"encrypt($data, 'garbage')", ErrKey},
		{"encrypt($data, '')", ErrKey},
		{"encrypt($long, $rsa_pub)", nil}, // too long for the key
	} {
		t.Run(tc.src, func(t *testing.T) {
			if err := evalErr(t, tc.src, sc); tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}
