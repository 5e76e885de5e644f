package jwtauth

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimRule(t *testing.T) {
	tests := []struct {
		name   string
		rule   claimRule
		claims string
		msg    string
	}{
		{name: "string", rule: claimRule{"aud", "api"}, claims: `{"aud":"api"}`},
		{name: "string differs", rule: claimRule{"aud", "api"}, claims: `{"aud":"API"}`, msg: "Claim aud does not match"},
		{name: "array contains", rule: claimRule{"aud", "api"}, claims: `{"aud":["web","api"]}`},
		{name: "array lacks", rule: claimRule{"aud", "api"}, claims: `{"aud":["web"]}`, msg: "Claim aud does not contain the expected value"},
		{name: "missing", rule: claimRule{"aud", "api"}, claims: `{}`, msg: "Claim aud missing"},
		{name: "number", rule: claimRule{"tenant", 42.0}, claims: `{"tenant":42}`},
		{name: "number 42.0", rule: claimRule{"tenant", 42.0}, claims: `{"tenant":42.0}`},
		{name: "number vs string claim", rule: claimRule{"tenant", 42.0}, claims: `{"tenant":"42"}`, msg: "Claim tenant does not match"},
		{name: "string from env vs number claim", rule: claimRule{"tenant", "42"}, claims: `{"tenant":42}`},
		{name: "string 42.0 vs number claim", rule: claimRule{"tenant", "42.0"}, claims: `{"tenant":42}`},
		{name: "big integer text", rule: claimRule{"id", "12345678901234567890"}, claims: `{"id":12345678901234567890}`},
		{name: "bool", rule: claimRule{"admin", true}, claims: `{"admin":true}`},
		{name: "bool differs", rule: claimRule{"admin", true}, claims: `{"admin":false}`, msg: "Claim admin does not match"},
		{name: "bool from env", rule: claimRule{"admin", "true"}, claims: `{"admin":true}`},
		{name: "bool vs string claim", rule: claimRule{"admin", true}, claims: `{"admin":"true"}`, msg: "Claim admin does not match"},
		{name: "object claim", rule: claimRule{"aud", "api"}, claims: `{"aud":{"api":true}}`, msg: "Claim aud does not match"},
		{name: "null claim", rule: claimRule{"aud", "api"}, claims: `{"aud":null}`, msg: "Claim aud does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.check(decode(t, tt.claims)); got != tt.msg {
				t.Fatalf("check = %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestMissingScopes(t *testing.T) {
	tests := []struct {
		name     string
		claim    string
		required []string
		claims   string
		msg      string
	}{
		{name: "nothing required", claim: "scope", claims: `{}`},
		{name: "string", claim: "scope", required: []string{"read", "write"}, claims: `{"scope":"write read"}`},
		{name: "string with tabs and newlines", claim: "scope", required: []string{"read"}, claims: `{"scope":"a\tread\nb"}`},
		{name: "array", claim: "permission", required: []string{"read"}, claims: `{"permission":["read"]}`},
		{name: "missing scopes listed", claim: "scope", required: []string{"read", "write", "admin"}, claims: `{"scope":"read"}`, msg: "Missing scope write, admin"},
		{name: "prefix is not the scope", claim: "scope", required: []string{"read"}, claims: `{"scope":"reader"}`, msg: "Missing scope read"},
		{name: "no claim", claim: "scope", required: []string{"read"}, claims: `{"scp":"read"}`, msg: "Scope claim scope missing"},
		{name: "array with a number", claim: "scope", required: []string{"read"}, claims: `{"scope":["read",1]}`, msg: "Scope claim scope must be a string or a list of strings"},
		{name: "object", claim: "scope", required: []string{"read"}, claims: `{"scope":{"read":true}}`, msg: "Scope claim scope must be a string or a list of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingScopes(decode(t, tt.claims), tt.claim, tt.required); got != tt.msg {
				t.Fatalf("missingScopes = %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestNoDuplicateKeys(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{}`, true},
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, true},
		{`{"a":[1,2,{"b":[]}],"b":"a"}`, true},
		{`{"aud":"api","aud":"evil"}`, false},
		{`{"x":{"sub":"a","sub":"b"}}`, false},
		{`{"x":[{"k":1,"k":2}]}`, false},
		{`{"a":`, false},
	}
	for _, tt := range tests {
		if err := noDuplicateKeys([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("noDuplicateKeys(%s) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
