package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ScopeKind is the level a key value map lives at (Apigee KVM <Scope>).
type ScopeKind int

const (
	// Organization maps are shared by every proxy of the organization.
	Organization ScopeKind = iota + 1
	// Environment maps belong to one environment of the organization.
	Environment
	// APIProxy maps belong to one proxy (all its revisions).
	APIProxy
	// Policy maps belong to one policy of one proxy.
	Policy
)

var scopeNames = map[ScopeKind]string{Organization: "organization", Environment: "environment", APIProxy: "apiproxy", Policy: "policy"}

// String returns the Apigee spelling of the scope kind.
func (k ScopeKind) String() string {
	if s, ok := scopeNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ScopeKind(%d)", int(k))
}

// ParseScopeKind reads an Apigee <Scope> value (case-insensitive).
func ParseScopeKind(s string) (ScopeKind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for k, n := range scopeNames {
		if n == t {
			return k, nil
		}
	}
	return 0, fmt.Errorf("KVM scope %q (want organization, environment, apiproxy or policy): %w", s, ErrInvalid)
}

// Scope names one KVM namespace. Org may be empty in a single-organization
// deployment. Env is required for Environment; Proxy for APIProxy and
// Policy; Policy for Policy. Fields a kind does not use are ignored.
type Scope struct {
	Kind   ScopeKind
	Org    string
	Env    string
	Proxy  string
	Policy string
}

// Path returns the canonical, unambiguous storage path of the scope, e.g.
// "o/acme/e/prod" (each name path-escaped).
func (s Scope) Path() (string, error) {
	e := url.PathEscape
	need := func(field, v string) error {
		if v == "" {
			return fmt.Errorf("KVM scope %s without %s: %w", s.Kind, field, ErrInvalid)
		}
		return nil
	}
	base := "o/" + e(s.Org)
	switch s.Kind {
	case Organization:
		return base, nil
	case Environment:
		if err := need("environment", s.Env); err != nil {
			return "", err
		}
		return base + "/e/" + e(s.Env), nil
	case APIProxy:
		if err := need("proxy", s.Proxy); err != nil {
			return "", err
		}
		return base + "/p/" + e(s.Proxy), nil
	case Policy:
		if err := need("proxy", s.Proxy); err != nil {
			return "", err
		}
		if err := need("policy", s.Policy); err != nil {
			return "", err
		}
		return base + "/p/" + e(s.Proxy) + "/x/" + e(s.Policy), nil
	}
	return "", fmt.Errorf("KVM scope kind %d: %w", int(s.Kind), ErrInvalid)
}

// KV is the key value map store behind Apigee KeyValueMapOperations.
//
// Get returns ("", false, nil) for a missing or expired entry. Put with
// override false leaves an existing entry alone (Apigee <Put
// override="false">); ttl <= 0 keeps the entry until deleted. Deleting a
// missing entry is not an error. Implementations are safe for concurrent
// use.
type KV interface {
	Get(ctx context.Context, scope Scope, mapName, key string) (string, bool, error)
	Put(ctx context.Context, scope Scope, mapName, key, value string, ttl time.Duration, override bool) error
	Delete(ctx context.Context, scope Scope, mapName, key string) error
}

// kvKey builds the storage key of one entry.
func kvKey(scope Scope, mapName, key string) (string, error) {
	p, err := scope.Path()
	if err != nil {
		return "", err
	}
	if mapName == "" {
		return "", fmt.Errorf("KVM without a map name: %w", ErrInvalid)
	}
	return p + "/m/" + url.PathEscape(mapName) + "/k/" + url.PathEscape(key), nil
}
