package policies

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// VerifyAPIKey (Apigee docs: VerifyAPIKey) checks an API key against the
// deployment's developer / app / API product store (engine.Run.Products,
// docs/state.md):
//
//	<VerifyAPIKey name="VA"><APIKey ref="request.queryparam.apikey"/></VerifyAPIKey>
//
// The checks run in Apigee's order and each failure is the fault of
// Apigee's VerifyAPIKey error reference, status 401, whose fault.name is
// the last dot-separated part of the code (what FaultRules test):
//
//	key variable absent (null)            steps.oauth.v2.FailedToResolveAPIKey     "Failed to resolve API Key variable <ref>"
//	unknown key (also empty, or too long)  oauth.v2.InvalidApiKey                   "Invalid ApiKey"
//	credential revoked                     oauth.v2.ApiKeyNotApproved               "ApiKey not approved"
//	credential expired                     keymanagement.service.consumer_key_expired
//	app revoked                            keymanagement.service.invalid_client-app_not_approved
//	developer inactive                     keymanagement.service.DeveloperStatusNotActive "Developer Status is not Active"
//	no approved product allows proxy,      oauth.v2.InvalidApiKeyForGivenResource   "Invalid ApiKey for given resource"
//	environment, path and operation
//
// Codes and the faultstrings shown were checked against published Apigee
// responses; the expired and app-not-approved faultstrings are flowproc's
// wording (FaultRules match fault.name, which is exact). A product allows
// the request per store.KeyMatch.Authorize with apiproxy.name,
// environment.name, proxy.pathsuffix and request.verb (operation groups
// included). A store that cannot answer (no products: directory, or a
// lookup error other than not found) fails closed with the 500 fault
// steps.oauth.v2.ExecutionFailed.
//
// On success the policy sets, under verifyapikey.<policy>.: client_id,
// client_secret, redirection_uris, status, developer.app.name,
// developer.app.id, app.name, app.id, app.status, app.callbackUrl,
// app.<attribute>, developer.id (the email when the developer has no id),
// developer.email, developer.firstName, developer.lastName,
// developer.userName, developer.status, developer.<attribute>,
// apiproduct.name, apiproduct.<attribute>,
// apiproduct.operation.resource (the matched operation of an operation
// group), apiproduct.developer.quota.limit / .interval / .timeunit (when the
// product, or the matched operation, has a quota), and the un-prefixed
// analytics variables client_id, developer.id, developer.email,
// developer.app.name, developer.app.id, apiproduct.name and
// apiproduct.developer.quota.*. On failure verifyapikey.<policy>.failed is
// true (and oauthV2.<policy>.failed, set by the engine).
func init() {
	engine.Register(engine.Kind{Type: "VerifyAPIKey", Prefix: "oauthV2", New: newVerifyAPIKey, Recyclable: true})
}

// vakMaxKeyBytes bounds an API key: a longer value cannot be a consumer
// key and is InvalidApiKey without a lookup.
const vakMaxKeyBytes = 2048

type verifyAPIKey struct {
	name string
	ref  string
	// full maps a variable suffix to "verifyapikey.<name>.<suffix>",
	// built at load so that a run concatenates no names.
	full map[string]string
}

// vakSuffixes are the fixed verifyapikey.<policy>.* variables.
var vakSuffixes = []string{"client_id", "client_secret", "redirection_uris", "status", "developer.app.name",
	"developer.app.id", "app.name", "app.id", "app.status", "app.callbackUrl", "developer.id", "developer.email",
	"developer.firstName", "developer.lastName", "developer.userName", "developer.status", "apiproduct.name",
	"apiproduct.operation.resource", "apiproduct.developer.quota.limit", "apiproduct.developer.quota.interval",
	"apiproduct.developer.quota.timeunit"}

func newVerifyAPIKey(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("APIKey", "CacheExpiryInSeconds")...)
	k := root.Child("APIKey")
	if k == nil {
		c.Errorf(root, diag.APMissingElement, "VerifyAPIKey %s has no <APIKey ref=…/>", p.Name)
		return nil
	}
	ref, _ := k.Attr("ref")
	ref = strings.TrimSpace(ref)
	if ref == "" {
		c.Errorf(k, diag.APMissingElement, "VerifyAPIKey %s: <APIKey> needs ref= (the variable holding the key)", p.Name)
		return nil
	}
	if ce := root.Child("CacheExpiryInSeconds"); ce != nil {
		// Apigee X caches key lookups; the file store answers from memory,
		// so the value is only checked.
		if _, has := ce.Attr("ref"); !has {
			if _, err := strconv.ParseUint(strings.TrimSpace(ce.Text), 10, 32); err != nil {
				c.Errorf(ce, diag.APBadPolicy, "VerifyAPIKey %s: <CacheExpiryInSeconds> %q is not a number of seconds", p.Name, ce.Text)
				return nil
			}
		}
	}
	v := &verifyAPIKey{name: p.Name, ref: ref, full: make(map[string]string, len(vakSuffixes))}
	for _, sfx := range vakSuffixes {
		v.full[sfx] = "verifyapikey." + p.Name + "." + sfx
	}
	return v
}

// vakFault is a VerifyAPIKey fault: code as Apigee spells it, name its
// last part.
func vakFault(code string, status int, msg string, err error) *engine.Fault {
	return &engine.Fault{Name: code[strings.LastIndexByte(code, '.')+1:], Code: code, Status: status, Message: msg, Err: err}
}

// Execute implements engine.Policy.
func (v *verifyAPIKey) Execute(r *engine.Run) error {
	err := v.verify(r)
	if err != nil {
		_ = r.Set("verifyapikey."+v.name+".failed", true)
	}
	return err
}

func (v *verifyAPIKey) verify(r *engine.Run) error {
	key, ok := r.Get(v.ref)
	if !ok {
		return vakFault("steps.oauth.v2.FailedToResolveAPIKey", 401, "Failed to resolve API Key variable "+v.ref, nil)
	}
	invalid := vakFault("oauth.v2.InvalidApiKey", 401, "Invalid ApiKey", nil)
	if key == "" || len(key) > vakMaxKeyBytes {
		return invalid
	}
	prods, err := r.Products()
	if err != nil {
		return v.storeFault(err)
	}
	m, err := prods.LookupKey(r.Ctx(), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid
	case err != nil:
		return v.storeFault(err)
	case m == nil || m.Credential == nil || m.App == nil || m.Developer == nil:
		return invalid
	}
	if err := m.Check(time.Now()); err != nil {
		switch {
		case errors.Is(err, store.ErrKeyNotApproved):
			return vakFault("oauth.v2.ApiKeyNotApproved", 401, "ApiKey not approved", err)
		case errors.Is(err, store.ErrKeyExpired):
			return vakFault("keymanagement.service.consumer_key_expired", 401, "Consumer key is expired", err)
		case errors.Is(err, store.ErrAppNotApproved):
			return vakFault("keymanagement.service.invalid_client-app_not_approved", 401, "Developer app is not approved", err)
		case errors.Is(err, store.ErrDeveloperInactive):
			return vakFault("keymanagement.service.DeveloperStatusNotActive", 401, "Developer Status is not Active", err)
		}
		return v.storeFault(err)
	}
	env, _ := r.Get("environment.name")
	suffix, _ := r.Get("proxy.pathsuffix")
	verb, _ := r.Get("request.verb")
	prod, quota, err := m.Authorize(r.ProxyName(), env, suffix, verb)
	if err != nil {
		if errors.Is(err, store.ErrResourceNotAllowed) {
			return vakFault("oauth.v2.InvalidApiKeyForGivenResource", 401, "Invalid ApiKey for given resource", err)
		}
		return v.storeFault(err)
	}
	v.setVars(r, m, prod, quota)
	return nil
}

func (v *verifyAPIKey) storeFault(err error) error {
	return vakFault("steps.oauth.v2.ExecutionFailed", 500, "Execution of VerifyAPIKey "+v.name+" failed: developer/app/product store unavailable", err)
}

func (v *verifyAPIKey) setVars(r *engine.Run, m *store.KeyMatch, prod *store.APIProduct, q *store.Quota) {
	p := "verifyapikey." + v.name + "."
	set := func(name, val string) { _ = r.Set(name, val) }
	dev, app, cred := m.Developer, m.App, m.Credential
	devID := dev.ID
	if devID == "" {
		devID = dev.Email
	}
	appID := app.ID
	if appID == "" {
		appID = app.Name
	}
	// Custom attributes first, so that a built-in name wins over an
	// attribute spelled like it.
	for n, val := range app.Attributes {
		set(p+"app."+n, val)
	}
	for n, val := range dev.Attributes {
		set(p+"developer."+n, val)
	}
	for n, val := range prod.Attributes {
		set(p+"apiproduct."+n, val)
	}
	set(v.full["client_id"], cred.ConsumerKey)
	set(v.full["client_secret"], cred.ConsumerSecret)
	set(v.full["redirection_uris"], app.CallbackURL)
	set(v.full["status"], strings.ToLower(cred.Status))
	set(v.full["developer.app.name"], app.Name)
	set(v.full["developer.app.id"], appID)
	set(v.full["app.name"], app.Name)
	set(v.full["app.id"], appID)
	set(v.full["app.status"], strings.ToLower(app.Status))
	set(v.full["app.callbackUrl"], app.CallbackURL)
	set(v.full["developer.id"], devID)
	set(v.full["developer.email"], dev.Email)
	set(v.full["developer.firstName"], dev.FirstName)
	set(v.full["developer.lastName"], dev.LastName)
	set(v.full["developer.userName"], dev.UserName)
	set(v.full["developer.status"], strings.ToLower(dev.Status))
	set(v.full["apiproduct.name"], prod.Name)
	set("client_id", cred.ConsumerKey)
	set("developer.id", devID)
	set("developer.email", dev.Email)
	set("developer.app.name", app.Name)
	set("developer.app.id", appID)
	set("apiproduct.name", prod.Name)
	suffix, _ := r.Get("proxy.pathsuffix")
	verb, _ := r.Get("request.verb")
	if op, ok := prod.Operation(r.ProxyName(), suffix, verb); ok {
		set(v.full["apiproduct.operation.resource"], op.Resource)
	}
	if q != nil {
		limit, interval, unit := strconv.FormatInt(q.Limit, 10), strconv.FormatInt(q.Interval, 10), q.TimeUnit.String()
		set(v.full["apiproduct.developer.quota.limit"], limit)
		set(v.full["apiproduct.developer.quota.interval"], interval)
		set(v.full["apiproduct.developer.quota.timeunit"], unit)
		set("apiproduct.developer.quota.limit", limit)
		set("apiproduct.developer.quota.interval", interval)
		set("apiproduct.developer.quota.timeunit", unit)
	}
}
