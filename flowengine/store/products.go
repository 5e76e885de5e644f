package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Developer is an API consumer registered with the organization.
type Developer struct {
	Email      string // the developer's id in config files; compared case-insensitively
	ID         string
	FirstName  string
	LastName   string
	UserName   string
	Status     string // "active" (default) or "inactive"
	Attributes map[string]string
}

// App is a developer app: a set of credentials granting API products.
type App struct {
	Name           string
	ID             string
	DisplayName    string
	DeveloperEmail string
	Status         string // "approved" (default) or "revoked"
	CallbackURL    string
	Scopes         []string
	Attributes     map[string]string
	Credentials    []*Credential
}

// Credential is one consumer key/secret pair of an app and the products it
// grants.
type Credential struct {
	ConsumerKey    string
	ConsumerSecret string
	Status         string // "approved" (default) or "revoked"
	IssuedAt       time.Time
	ExpiresAt      time.Time // zero: never expires
	Scopes         []string
	Products       []CredentialProduct
}

// CredentialProduct is one product granted to a credential, with the
// approval status of that grant.
type CredentialProduct struct {
	Name   string
	Status string // "approved" (default), "pending" or "revoked"
}

// APIProduct bundles proxies, paths and environments under one quota.
type APIProduct struct {
	Name         string
	DisplayName  string
	Description  string
	ApprovalType string
	Environments []string // empty: every environment
	Proxies      []string // empty: every proxy
	// Resources are path patterns matched against proxy.pathsuffix: "/" and
	// "/**" allow everything (Edge's default for "/"), "*" matches exactly
	// one path segment and "**" one or more; other segments are literal. A
	// trailing slash on the request path is ignored. Empty: every path.
	Resources  []string
	Scopes     []string
	Attributes map[string]string
	Quota      *Quota // nil: no product quota
	// Operations (Apigee X operation groups) replace Proxies and Resources
	// when present: a request must match one operation of a config whose
	// APISource is the proxy.
	Operations []OperationConfig
}

// Quota is a product's request allowance (Apigee quota, quotaInterval,
// quotaTimeUnit), read by Quota policies through
// verifyapikey.<policy>.apiproduct.developer.quota.*.
type Quota struct {
	Limit    int64
	Interval int64
	TimeUnit TimeUnit
}

// OperationConfig is one entry of an Apigee X operation group.
type OperationConfig struct {
	APISource  string
	Operations []Operation
	Quota      *Quota // nil: the product's quota
	Attributes map[string]string
}

// Operation is a resource pattern and the HTTP methods allowed on it
// (empty: all methods).
type Operation struct {
	Resource string
	Methods  []string
}

// KeyMatch is everything a consumer key resolves to. Its values are shared
// and must not be modified.
type KeyMatch struct {
	Developer  *Developer
	App        *App
	Credential *Credential
	// Products are the credential's products in grant order, whatever the
	// grant's status (see Credential.Products for it).
	Products []*APIProduct
}

// Errors of KeyMatch.Check, one per Apigee VerifyAPIKey fault.
var (
	ErrKeyNotApproved     = errors.New("store: consumer key not approved")       // ApiKeyNotApproved
	ErrKeyExpired         = errors.New("store: consumer key expired")            // consumer_key_expired
	ErrAppNotApproved     = errors.New("store: app not approved")                // invalid_client-app_not_approved
	ErrDeveloperInactive  = errors.New("store: developer not active")            // DeveloperStatusNotActive
	ErrResourceNotAllowed = errors.New("store: key not valid for this resource") // InvalidApiKeyForGivenResource
)

// Check reports why the key may not be used at time now: a revoked
// credential, an expired one, a revoked app or an inactive developer; nil
// when it may.
func (m *KeyMatch) Check(now time.Time) error {
	switch {
	case !strings.EqualFold(m.Credential.Status, "approved"):
		return fmt.Errorf("credential status %q: %w", m.Credential.Status, ErrKeyNotApproved)
	case !m.Credential.ExpiresAt.IsZero() && !now.Before(m.Credential.ExpiresAt):
		return fmt.Errorf("credential expired at %s: %w", m.Credential.ExpiresAt.Format(time.RFC3339), ErrKeyExpired)
	case !strings.EqualFold(m.App.Status, "approved"):
		return fmt.Errorf("app %q status %q: %w", m.App.Name, m.App.Status, ErrAppNotApproved)
	case !strings.EqualFold(m.Developer.Status, "active"):
		return fmt.Errorf("developer status %q: %w", m.Developer.Status, ErrDeveloperInactive)
	}
	return nil
}

// Authorize returns the first product whose grant is approved and which
// allows the request, with the quota that applies (the operation's, else
// the product's; nil when none). pathSuffix is proxy.pathsuffix. The error
// wraps ErrResourceNotAllowed (Apigee InvalidApiKeyForGivenResource).
func (m *KeyMatch) Authorize(proxy, env, pathSuffix, method string) (*APIProduct, *Quota, error) {
	for i, p := range m.Products {
		if !strings.EqualFold(m.Credential.Products[i].Status, "approved") {
			continue
		}
		if q, ok := p.Allows(proxy, env, pathSuffix, method); ok {
			return p, q, nil
		}
	}
	return nil, nil, fmt.Errorf("no approved product of the key allows proxy %q env %q path %q method %q: %w", proxy, env, pathSuffix, method, ErrResourceNotAllowed)
}

// Allows reports whether the product covers a request to proxy in env on
// pathSuffix with method, and the quota that applies to it.
func (p *APIProduct) Allows(proxy, env, pathSuffix, method string) (*Quota, bool) {
	if len(p.Environments) > 0 && !contains(p.Environments, env, false) {
		return nil, false
	}
	if len(p.Operations) > 0 {
		for _, oc := range p.Operations {
			if oc.APISource != proxy {
				continue
			}
			for _, op := range oc.Operations {
				if MatchResource(op.Resource, pathSuffix) && (len(op.Methods) == 0 || contains(op.Methods, method, true)) {
					if oc.Quota != nil {
						return oc.Quota, true
					}
					return p.Quota, true
				}
			}
		}
		return nil, false
	}
	if len(p.Proxies) > 0 && !contains(p.Proxies, proxy, false) {
		return nil, false
	}
	if len(p.Resources) == 0 {
		return p.Quota, true
	}
	for _, r := range p.Resources {
		if MatchResource(r, pathSuffix) {
			return p.Quota, true
		}
	}
	return nil, false
}

// MatchResource matches an API product resource pattern against a path
// suffix (see APIProduct.Resources for the rules).
func MatchResource(pattern, path string) bool {
	if pattern == "/" || pattern == "/**" {
		return true
	}
	if path == "" {
		path = "/"
	}
	return matchSegments(splitPath(pattern), splitPath(path))
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchSegments matches pattern segments against path segments by
// dynamic programming (O(len(pat)*len(segs)), no backtracking blow-up
// whatever the number of "**"): ok[j] says whether pat[i:] matches segs[j:].
func matchSegments(pat, segs []string) bool {
	n := len(segs)
	ok := make([]bool, n+1)
	ok[n] = true // empty pattern matches empty rest
	next := make([]bool, n+1)
	for i := len(pat) - 1; i >= 0; i-- {
		for j := n; j >= 0; j-- {
			switch {
			case j == n:
				next[j] = false // every segment kind needs at least one path segment
			case pat[i] == "**":
				next[j] = ok[j+1] || next[j+1] // this segment ends the run, or the run goes on
			case pat[i] == "*" || pat[i] == segs[j]:
				next[j] = ok[j+1]
			default:
				next[j] = false
			}
		}
		ok, next = next, ok
	}
	return ok[0]
}

func contains(list []string, s string, fold bool) bool {
	for _, x := range list {
		if x == s || (fold && strings.EqualFold(x, s)) {
			return true
		}
	}
	return false
}

// Products is the developer / app / API product store behind VerifyAPIKey
// and OAuthV2. Lookups of unknown keys, apps or products return an error
// wrapping ErrNotFound. Implementations are safe for concurrent use.
type Products interface {
	// LookupKey resolves a consumer key (OAuth client_id).
	LookupKey(ctx context.Context, consumerKey string) (*KeyMatch, error)
	// LookupApp returns a developer's app by name.
	LookupApp(ctx context.Context, developerEmail, appName string) (*App, *Developer, error)
	// Product returns an API product by name.
	Product(ctx context.Context, name string) (*APIProduct, error)
}
