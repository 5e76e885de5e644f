package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnHMAC(t *testing.T) {
	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	v := flowvar.Map{"k": "Jefe", "m": "what do ya want for nothing?", "khex": "4a656665", "k64": "SmVmZQ=="}
	const mac256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	runFnCases(t, []fnCase{
		{tmpl: "{hmacSha256(k,m,'utf8','hex')}", vars: v, want: mac256},
		{tmpl: "{hmacSha256(khex,m,'base16','BASE16')}", vars: v, want: mac256},
		{tmpl: "{hmacSha256(k64,m,'base64','hex')}", vars: v, want: mac256},
		{tmpl: "{hmacSha256(k,m)}", vars: v, want: "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="},
		{tmpl: "{hmacSha256(k,m,'utf-8','base64url')}", vars: v, want: "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"},
		{tmpl: "{hmacSha224(k,m,'utf8','hex')}", vars: v, want: "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
		{tmpl: "{hmacSha384(k,m,'utf8','hex')}", vars: v, want: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{tmpl: "{hmacSha512(k,m,'utf8','hex')}", vars: v, want: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{tmpl: "{hmacSha1(k,m,'utf8','hex')}", vars: v, want: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{tmpl: "{hmacMd5(k,m,'utf8','hex')}", vars: v, want: "750c783e6ab0b503eaa86e310a5db738"},
		{tmpl: "{hmacSha256(k,m,'latin1')}", vars: v, err: CodeBadArgument},
		{tmpl: "{hmacSha256(k,m,'utf8','base32')}", vars: v, err: CodeBadArgument},
		{tmpl: "{hmacSha256(k,m,'hex')}", vars: v, err: CodeFunctionFailed},
		{tmpl: "{hmacSha256(k)}", vars: v, err: CodeArity},
	})
}
