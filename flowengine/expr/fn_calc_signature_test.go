package expr

import (
	"errors"
	"testing"
)

func TestFnCalcSignature(t *testing.T) {
	sc := cryptoScope(t)
	runIn(t, sc, []fnCase{
		// RSA PKCS #1 v1.5 is deterministic: the same bytes as OpenSSL.
		{"calc-signature($data, $rsa) = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa_bare) = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa_pkcs1) = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa_enc_aes, 'secret') = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa_enc_aes_bare, 'secret') = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa_enc_des3, 'secret', 'sha256') = $rsa_sha256", "true"},
		{"calc-signature($data, $rsa, '', 'SHA512') = $rsa_sha512", "true"},
		{"calc-signature($data, $rsa, '', 'SHA512') = $rsa_sha256", "false"},
		{"verify-signature(calc-signature($data, $rsa, '', 'md5'), $data, $rsa_pub, 'MD5')", "true"},
		{"verify-signature(calc-signature($data, $rsa, '', 'SHA1'), $data, $rsa_pub, 'sha')", "true"},
		{"verify-signature(calc-signature($data, $rsa, '', 'sha224'), $data, $rsa_pub, 'SHA224')", "true"},
		{"verify-signature(calc-signature($data, $rsa, '', 'sha384'), $data, $rsa_pub, 'SHA384')", "true"},
		// ECDSA signatures are randomized: check by verifying.
		{"verify-signature(calc-signature($data, $ec), $data, $ec_pub)", "true"},
		{"verify-signature(calc-signature($data, $ec, '', 'ecdsa-with-SHA1'), $data, $ec_pub, 'SHA1')", "true"},
		{"verify-signature(calc-signature($data, $rsa, '', 'RIPEMD160'), $data, $rsa_pub, 'ripemd160')", "true"},
		{"verify-signature(calc-signature($data, $rsa, '', 'RIPEMD160'), $data, $rsa_pub, 'sha256')", "false"},
	})
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"calc-signature($data, $rsa, '', 'DSA')", ErrAlgorithm},
		{"calc-signature($data, $rsa, '', 'md4')", ErrAlgorithm},
		{"calc-signature($data, $rsa_enc_aes, 'wrong')", ErrKey},
		{"calc-signature($data, $rsa_enc_aes)", ErrKey},
		{"calc-signature($data, $rsa_enc_des3, 'wrong')", ErrKey},
		{"calc-signature($data, $rsa_pub)", ErrKey},
		{"calc-signature($data, 'garbage')", ErrKey},
		{"calc-signature($data, '')", ErrKey},
		{"calc-signature($data, $undefined)", ErrKey},
		{"calc-signature($data, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')", ErrKey},
	} {
		t.Run(tc.src, func(t *testing.T) {
			if err := evalErr(t, tc.src, sc); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}
