package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// TokenKind tells access tokens, refresh tokens and authorization codes
// apart; the same string never matches across kinds.
type TokenKind string

const (
	// AccessToken is an OAuth 2.0 access token.
	AccessToken TokenKind = "access"
	// RefreshToken is an OAuth 2.0 refresh token.
	RefreshToken TokenKind = "refresh"
	// AuthCode is an OAuth 2.0 authorization code.
	AuthCode TokenKind = "code"
)

// Token is one issued OAuth artefact and what it was issued for.
type Token struct {
	Kind           TokenKind         `json:"kind"`
	Value          string            `json:"-"` // the secret itself; stores key by its hash
	ClientID       string            `json:"client_id"`
	AppName        string            `json:"app_name,omitempty"`
	DeveloperEmail string            `json:"developer_email,omitempty"`
	APIProducts    []string          `json:"api_products,omitempty"`
	Scope          string            `json:"scope,omitempty"`
	GrantType      string            `json:"grant_type,omitempty"`
	RedirectURI    string            `json:"redirect_uri,omitempty"`
	RefreshToken   string            `json:"refresh_token,omitempty"` // the refresh token issued with an access token
	Attributes     map[string]string `json:"attributes,omitempty"`
	IssuedAt       time.Time         `json:"issued_at"`
	ExpiresAt      time.Time         `json:"expires_at"`
}

// Tokens stores OAuth tokens and codes until they expire.
//
// Put stores t until t.ExpiresAt (a token already expired, or without
// Kind, Value or ClientID, is refused with ErrInvalid). Get returns
// (Token{}, false, nil) for an unknown, expired or revoked value. Revoke
// removes one value; RevokeApp removes every token and code issued to a
// client ID and returns how many it removed. Token values are kept only as
// SHA-256 hashes in shared stores.
type Tokens interface {
	Put(ctx context.Context, t Token) error
	Get(ctx context.Context, kind TokenKind, value string) (Token, bool, error)
	Revoke(ctx context.Context, kind TokenKind, value string) error
	RevokeApp(ctx context.Context, clientID string) (int, error)
}

// tokenID is the storage id of a token: kind plus the hex SHA-256 of the
// value.
func tokenID(kind TokenKind, value string) string {
	h := sha256.Sum256([]byte(value))
	return string(kind) + ":" + hex.EncodeToString(h[:])
}

func checkToken(t Token, now time.Time) (time.Duration, error) {
	switch t.Kind {
	case AccessToken, RefreshToken, AuthCode:
	default:
		return 0, fmt.Errorf("token kind %q: %w", t.Kind, ErrInvalid)
	}
	if t.Value == "" || t.ClientID == "" {
		return 0, fmt.Errorf("token without value or client id: %w", ErrInvalid)
	}
	ttl := t.ExpiresAt.Sub(now)
	if ttl <= 0 {
		return 0, fmt.Errorf("token expired at %s: %w", t.ExpiresAt.Format(time.RFC3339), ErrInvalid)
	}
	return ttl, nil
}
