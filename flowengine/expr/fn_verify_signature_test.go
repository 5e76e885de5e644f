package expr

import (
	"errors"
	"testing"
)

func TestFnVerifySignature(t *testing.T) {
	sc := cryptoScope(t)
	runIn(t, sc, []fnCase{
		{"verify-signature($rsa_sha256, $data, $rsa_pub)", "true"},
		{"verify-signature($rsa_sha256, $data, $rsa_pub_bare, 'SHA256')", "true"},
		{"verify-signature($rsa_sha256, $data, $rsa_cert)", "true"},
		{"verify-signature($rsa_sha256, $data, $rsa_cert_bare)", "true"},
		{"verify-signature($rsa_sha256, $data, $rsa)", "true"}, // public half of a private key
		{"verify-signature($rsa_sha512, $data, $rsa_pub, 'sha512')", "true"},
		{"verify-signature($ec_sha256, $data, $ec_pub)", "true"},
		{"verify-signature($ec_sha256, $data, $ec_pub_bare)", "true"},
		// Not verified.
		{"verify-signature($rsa_sha256, 'different data', $rsa_pub)", "false"},
		{"verify-signature($rsa_sha512, $data, $rsa_pub)", "false"},
		{"verify-signature($rsa_sha256, $data, $ec_pub)", "false"},
		{"verify-signature($ec_sha256, $data, $rsa_pub)", "false"},
		{"verify-signature('!!notbase64', $data, $rsa_pub)", "false"},
		{"verify-signature('', $data, $rsa_pub)", "false"},
		{"verify-signature('AAAA', $data, $rsa_pub)", "false"},
		{"verify-signature($rsa_sha256, $data, 'garbage')", "false"},
		{"verify-signature($rsa_sha256, $data, '')", "false"},
	})
	if err := evalErr(t, "verify-signature($rsa_sha256, $data, $rsa_pub, 'MD4')", sc); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("error %v, want ErrAlgorithm", err)
	}
}
