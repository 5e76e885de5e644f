package expr

import (
	"errors"
	"testing"
)

func TestFnDecrypt(t *testing.T) {
	sc := cryptoScope(t)
	runIn(t, sc, []fnCase{
		// Ciphertext made by OpenSSL (RSAES-OAEP, SHA-1).
		{"decrypt($oaep, $rsa)", `"my data"`},
		{"decrypt($oaep, $rsa_bare)", `"my data"`},
		{"decrypt($oaep, $rsa_bare, '')", `"my data"`},
		{"decrypt($oaep, $rsa_pkcs1)", `"my data"`},
		{"decrypt($oaep, $rsa_enc_aes, 'secret')", `"my data"`},
		{"decrypt($oaep, $rsa_enc_aes_bare, 'secret')", `"my data"`},
		{"decrypt($oaep, $rsa_enc_des3, 'secret')", `"my data"`},
		{"decrypt(concat($rsa_pub, $rsa), $rsa)", "false"}, // not Base64
		// Ciphertext that does not decrypt: false.
		{"decrypt('AAAA', $rsa)", "false"},
		{"decrypt('%%%', $rsa)", "false"},
		{"decrypt('', $rsa)", "false"},
		{"decrypt(encrypt($data, $rsa_pub), $rsa) = $data", "true"},
	})
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"decrypt($oaep, $rsa_enc_aes, 'wrong')", ErrKey},
		{"decrypt($oaep, $rsa_enc_aes)", ErrKey},
		{"decrypt($oaep, $rsa_pub)", ErrKey},
		{"decrypt($oaep, $ec)", ErrKey},
		{"decrypt($oaep, 'garbage')", ErrKey},
	} {
		t.Run(tc.src, func(t *testing.T) {
			if err := evalErr(t, tc.src, sc); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}
