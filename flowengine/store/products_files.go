package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"sigs.k8s.io/yaml"
)

// FileOptions tune a FileProducts store.
type FileOptions struct {
	// Org is the organization name KVM seeds are scoped to (may be empty).
	Org string
	// KV receives the KVM seeds (org/kvms.json, env/<env>/kvms.json,
	// api/<proxy>/kvms.json) as entries put with override=false: a seed
	// never overwrites a value written at run time, like Apigee's
	// <InitialEntries>. nil: seeds are parsed and checked but not stored.
	KV KV
	// Debounce is how long Watch waits after the last file event before
	// reloading. Zero means 250ms.
	Debounce time.Duration
	// OnReload, if set, is called after every reload Watch performs with
	// its result (nil on success).
	OnReload func(error)
}

// FileProducts is the embedded Products store: Apigee config files (the
// apigee-config-maven-plugin multi-file layout, JSON or YAML) in a
// directory:
//
//	org/developers.json     [ {email, firstName, …, status, attributes} ]
//	org/developerApps.json  { "<email>": [ {name, apiProducts, status, credentials, …} ] }
//	org/importKeys.json     { "<email>": [ {name: <app>, consumerKey, consumerSecret, apiProducts} ] }
//	org/apiProducts.json    [ {name, environments, proxies, apiResources, quota, …, operationGroup} ]
//	org/kvms.json, env/<env>/kvms.json, api/<proxy>/kvms.json   [ {name, entry: [{name, value}]} ]
//
// Each file may also be .yaml/.yml; kvm.json is accepted for kvms.json.
// Other files (targetServers.json, caches…) are not product data and are
// left alone. Data is swapped atomically; a reload that fails keeps the
// last good data and is reported by Reload, Err and OnReload.
type FileProducts struct {
	dir  string
	opts FileOptions
	data atomic.Pointer[productData]

	mu      sync.Mutex // serialises reloads
	lastErr atomic.Pointer[error]
}

type productData struct {
	developers map[string]*Developer // lower-case email
	apps       map[string]*App       // lower-case email + "\x00" + name
	keys       map[string]*KeyMatch
	products   map[string]*APIProduct
	seeds      []kvSeed
	grants     map[string][]jsonGrant // app id -> the app's apiProducts
}

type kvSeed struct {
	scope      Scope
	mapName    string
	key, value string
	// encrypted: the map is declared encrypted (its "encrypted" flag);
	// declareOnly: no entry, only the declaration of an empty map.
	encrypted, declareOnly bool
}

// kvEncrypter is a KV that can hold maps encrypted (CryptKV).
type kvEncrypter interface {
	DeclareEncrypted(scope Scope, mapName string) error
}

// LoadFileProducts reads the store from dir. If the files cannot be
// loaded it returns a nil store and the error. If only the KVM seeding
// failed (the KV is unavailable) it returns the usable store together with
// that error; Watch retries the seeding.
func LoadFileProducts(ctx context.Context, dir string, o FileOptions) (*FileProducts, error) {
	if o.Debounce <= 0 {
		o.Debounce = 250 * time.Millisecond
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("store: products: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("store: products: %s is not a directory: %w", dir, ErrInvalid)
	}
	p := &FileProducts{dir: dir, opts: o}
	if err := p.Reload(ctx); err != nil {
		if p.data.Load() == nil {
			return nil, err
		}
		return p, err
	}
	return p, nil
}

// Reload rereads the files. On a parse or consistency error the previous
// data stays and the error is returned. A KVM seeding error (KV
// unavailable) is returned after the new data is in place.
func (p *FileProducts) Reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, err := loadProductData(p.dir, p.opts.Org)
	if err != nil {
		err = fmt.Errorf("store: products %s: %w", p.dir, err)
		p.lastErr.Store(&err)
		return err
	}
	p.data.Store(d)
	if p.opts.KV != nil {
		for _, s := range d.seeds {
			if s.encrypted {
				enc, ok := p.opts.KV.(kvEncrypter)
				if !ok {
					err := fmt.Errorf("store: products %s: KVM %s is encrypted but the KV store %T cannot encrypt: %w", p.dir, s.mapName, p.opts.KV, ErrNoKVMKey)
					p.lastErr.Store(&err)
					return err
				}
				if err := enc.DeclareEncrypted(s.scope, s.mapName); err != nil {
					err = fmt.Errorf("store: products %s: %w", p.dir, err)
					p.lastErr.Store(&err)
					return err
				}
			}
			if s.declareOnly {
				continue
			}
			if err := p.opts.KV.Put(ctx, s.scope, s.mapName, s.key, s.value, 0, false); err != nil {
				err = fmt.Errorf("store: products %s: KVM seed %s: %w", p.dir, s.mapName, err)
				p.lastErr.Store(&err)
				return err
			}
		}
	}
	p.lastErr.Store(nil)
	return nil
}

// Err returns the error of the last reload, nil if it succeeded.
func (p *FileProducts) Err() error {
	if e := p.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

// LookupKey implements Products.
func (p *FileProducts) LookupKey(ctx context.Context, consumerKey string) (*KeyMatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: lookup key: %w", err)
	}
	if m, ok := p.data.Load().keys[consumerKey]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("store: consumer key: %w", ErrNotFound)
}

// LookupApp implements Products.
func (p *FileProducts) LookupApp(ctx context.Context, developerEmail, appName string) (*App, *Developer, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: lookup app: %w", err)
	}
	d := p.data.Load()
	a, ok := d.apps[strings.ToLower(developerEmail)+"\x00"+appName]
	if !ok {
		return nil, nil, fmt.Errorf("store: app %q of %q: %w", appName, developerEmail, ErrNotFound)
	}
	return a, d.developers[strings.ToLower(developerEmail)], nil
}

// Product implements Products.
func (p *FileProducts) Product(ctx context.Context, name string) (*APIProduct, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: product: %w", err)
	}
	if pr, ok := p.data.Load().products[name]; ok {
		return pr, nil
	}
	return nil, fmt.Errorf("store: API product %q: %w", name, ErrNotFound)
}

// seedRetry is how long Watch waits before reloading again after a reload
// failed only because the KV store was unavailable.
var seedRetry = 5 * time.Second

// Watch reloads the store when files under the directory change, waiting
// Debounce after the last event, until ctx is done. A reload that failed
// because the KV store was unavailable is retried every few seconds. It
// returns an error only if watching cannot start.
func (p *FileProducts) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("store: products watch: %w", err)
	}
	defer w.Close()
	if err := p.addWatches(w); err != nil {
		return err
	}
	var timer <-chan time.Time
	if errors.Is(p.Err(), ErrUnavailable) {
		timer = time.After(seedRetry)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			timer = time.After(p.opts.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if p.opts.OnReload != nil {
				p.opts.OnReload(fmt.Errorf("store: products watch: %w", err))
			}
		case <-timer:
			timer = nil
			err := p.Reload(ctx)
			if werr := p.addWatches(w); err == nil {
				err = werr
			}
			if p.opts.OnReload != nil {
				p.opts.OnReload(err)
			}
			if errors.Is(err, ErrUnavailable) {
				timer = time.After(seedRetry)
			}
		}
	}
}

// addWatches watches the root, org/, env/, api/ and their direct
// subdirectories (fsnotify is not recursive); new ones are added after
// each reload.
func (p *FileProducts) addWatches(w *fsnotify.Watcher) error {
	dirs := []string{p.dir}
	for _, sub := range []string{"org", "env", "api"} {
		d := filepath.Join(p.dir, sub)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
			if sub != "org" {
				ents, _ := os.ReadDir(d)
				for _, e := range ents {
					if e.IsDir() {
						dirs = append(dirs, filepath.Join(d, e.Name()))
					}
				}
			}
		}
	}
	watched := map[string]bool{}
	for _, d := range w.WatchList() {
		watched[d] = true
	}
	for _, d := range dirs {
		if watched[d] {
			continue
		}
		if err := w.Add(d); err != nil {
			return fmt.Errorf("store: products watch %s: %w", d, err)
		}
	}
	return nil
}

// readConfig reads dir/<base>.{json,yaml,yml} (and the alias bases) as
// JSON. found is false when no such file exists; two spellings of one file
// are an error.
func readConfig(root, dir string, bases ...string) (data []byte, name string, found bool, err error) {
	for _, base := range bases {
		for _, ext := range []string{".json", ".yaml", ".yml"} {
			path := filepath.Join(dir, base+ext)
			b, rerr := os.ReadFile(path)
			if errors.Is(rerr, fs.ErrNotExist) {
				continue
			}
			rel, _ := filepath.Rel(root, path)
			if rerr != nil {
				return nil, rel, false, rerr
			}
			if found {
				return nil, rel, false, fmt.Errorf("%s and %s: one file per kind", name, rel)
			}
			if ext != ".json" {
				if b, rerr = yaml.YAMLToJSON(b); rerr != nil {
					return nil, rel, false, fmt.Errorf("%s: %w", rel, rerr)
				}
			}
			data, name, found = b, rel, true
		}
	}
	return data, name, found, nil
}

// decodeConfig reads one config file into v; missing files leave v alone.
func decodeConfig(root, dir string, v any, bases ...string) (bool, error) {
	data, name, found, err := readConfig(root, dir, bases...)
	if err != nil || !found {
		return false, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(v); err != nil {
		return false, decodeError(name, data, err)
	}
	if dec.More() {
		return false, fmt.Errorf("%s: data after the JSON value", name)
	}
	return true, nil
}

func loadProductData(root, org string) (*productData, error) {
	orgDir := filepath.Join(root, "org")
	d := &productData{developers: map[string]*Developer{}, apps: map[string]*App{}, keys: map[string]*KeyMatch{}, products: map[string]*APIProduct{}, grants: map[string][]jsonGrant{}}

	var devs []jsonDeveloper
	if _, err := decodeConfig(root, orgDir, &devs, "developers"); err != nil {
		return nil, err
	}
	for i, j := range devs {
		email := strings.ToLower(strings.TrimSpace(j.Email))
		if email == "" {
			return nil, fmt.Errorf("org/developers: developer %d has no email", i)
		}
		if d.developers[email] != nil {
			return nil, fmt.Errorf("org/developers: developer %q twice", j.Email)
		}
		d.developers[email] = &Developer{Email: j.Email, ID: j.DeveloperID, FirstName: j.FirstName, LastName: j.LastName,
			UserName: j.UserName, Status: orDefault(j.Status, "active"), Attributes: attrMap(j.Attributes)}
	}

	var prods []jsonProduct
	if _, err := decodeConfig(root, orgDir, &prods, "apiProducts"); err != nil {
		return nil, err
	}
	for _, j := range prods {
		pr, err := convertProduct(j)
		if err != nil {
			return nil, fmt.Errorf("org/apiProducts: product %q: %w", j.Name, err)
		}
		if d.products[pr.Name] != nil {
			return nil, fmt.Errorf("org/apiProducts: product %q twice", pr.Name)
		}
		d.products[pr.Name] = pr
	}

	var apps map[string][]jsonApp
	if _, err := decodeConfig(root, orgDir, &apps, "developerApps"); err != nil {
		return nil, err
	}
	var imports map[string][]jsonImportKey
	if _, err := decodeConfig(root, orgDir, &imports, "importKeys"); err != nil {
		return nil, err
	}
	for _, email := range sortedKeys(apps) {
		dev := d.developers[strings.ToLower(email)]
		if dev == nil {
			return nil, fmt.Errorf("org/developerApps: developer %q is not in org/developers", email)
		}
		for _, j := range apps[email] {
			if err := d.addApp(dev, j); err != nil {
				return nil, fmt.Errorf("org/developerApps: %s app %q: %w", email, j.Name, err)
			}
		}
	}
	for _, email := range sortedKeys(imports) {
		for _, k := range imports[email] {
			id := strings.ToLower(email) + "\x00" + k.Name
			app := d.apps[id]
			if app == nil {
				return nil, fmt.Errorf("org/importKeys: %s app %q is not in org/developerApps", email, k.Name)
			}
			if err := d.addCredential(d.developers[strings.ToLower(email)], app, k.jsonCredential, d.grants[id]); err != nil {
				return nil, fmt.Errorf("org/importKeys: %s app %q: %w", email, k.Name, err)
			}
		}
	}
	if err := d.loadSeeds(root, org); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *productData) addApp(dev *Developer, j jsonApp) error {
	if j.Name == "" {
		return errors.New("app without a name")
	}
	id := strings.ToLower(dev.Email) + "\x00" + j.Name
	if d.apps[id] != nil {
		return errors.New("app twice")
	}
	app := &App{Name: j.Name, ID: j.AppID, DisplayName: j.DisplayName, DeveloperEmail: dev.Email,
		Status: orDefault(j.Status, "approved"), CallbackURL: j.CallbackURL, Scopes: j.Scopes, Attributes: attrMap(j.Attributes)}
	d.apps[id] = app
	d.grants[id] = j.APIProducts
	for _, g := range j.APIProducts {
		if d.products[g.Name] == nil {
			return fmt.Errorf("API product %q is not in org/apiProducts", g.Name)
		}
	}
	for _, c := range j.Credentials {
		if err := d.addCredential(dev, app, c, j.APIProducts); err != nil {
			return err
		}
	}
	return nil
}

// addCredential adds one key to app; a credential without products gets
// fallback (the app's apiProducts), else the app's first credential's.
func (d *productData) addCredential(dev *Developer, app *App, j jsonCredential, fallback []jsonGrant) error {
	if j.ConsumerKey == "" {
		return errors.New("credential without consumerKey")
	}
	if d.keys[j.ConsumerKey] != nil {
		return errors.New("consumer key used twice")
	}
	issued, err := parseMillis(j.IssuedAt)
	if err != nil {
		return err
	}
	expires, err := parseMillis(j.ExpiresAt)
	if err != nil {
		return err
	}
	grants := j.APIProducts
	if len(grants) == 0 {
		grants = fallback
	}
	if len(grants) == 0 && len(app.Credentials) > 0 {
		for _, p := range app.Credentials[0].Products {
			grants = append(grants, jsonGrant{Name: p.Name, Status: p.Status})
		}
	}
	c := &Credential{ConsumerKey: j.ConsumerKey, ConsumerSecret: j.ConsumerSecret, Status: orDefault(j.Status, "approved"),
		IssuedAt: issued, ExpiresAt: expires, Scopes: j.Scopes}
	m := &KeyMatch{Developer: dev, App: app, Credential: c}
	for _, g := range grants {
		pr := d.products[g.Name]
		if pr == nil {
			return fmt.Errorf("API product %q is not in org/apiProducts", g.Name)
		}
		c.Products = append(c.Products, CredentialProduct{Name: g.Name, Status: orDefault(g.Status, "approved")})
		m.Products = append(m.Products, pr)
	}
	app.Credentials = append(app.Credentials, c)
	d.keys[c.ConsumerKey] = m
	return nil
}

func convertProduct(j jsonProduct) (*APIProduct, error) {
	if j.Name == "" {
		return nil, errors.New("no name")
	}
	q, err := parseQuota(j.Quota, j.QuotaInterval, j.QuotaTimeUnit)
	if err != nil {
		return nil, err
	}
	pr := &APIProduct{Name: j.Name, DisplayName: j.DisplayName, Description: j.Description, ApprovalType: j.ApprovalType,
		Environments: j.Environments, Proxies: j.Proxies, Resources: j.APIResources, Scopes: j.Scopes,
		Attributes: attrMap(j.Attributes), Quota: q}
	for _, r := range pr.Resources {
		if err := checkResource(r); err != nil {
			return nil, err
		}
	}
	if j.OperationGroup != nil {
		for _, oc := range j.OperationGroup.OperationConfigs {
			if oc.APISource == "" {
				return nil, errors.New("operation config without apiSource")
			}
			c := OperationConfig{APISource: oc.APISource, Attributes: attrMap(oc.Attributes)}
			if oc.Quota != nil {
				if c.Quota, err = parseQuota(oc.Quota.Limit, oc.Quota.Interval, oc.Quota.TimeUnit); err != nil {
					return nil, fmt.Errorf("operation config %q: %w", oc.APISource, err)
				}
			}
			for _, op := range oc.Operations {
				if err := checkResource(op.Resource); err != nil {
					return nil, fmt.Errorf("operation config %q: %w", oc.APISource, err)
				}
				c.Operations = append(c.Operations, Operation{Resource: op.Resource, Methods: op.Methods})
			}
			if len(c.Operations) == 0 {
				return nil, fmt.Errorf("operation config %q has no operations", oc.APISource)
			}
			pr.Operations = append(pr.Operations, c)
		}
	}
	return pr, nil
}

// checkResource refuses patterns MatchResource would not read as meant.
func checkResource(r string) error {
	if !strings.HasPrefix(r, "/") {
		return fmt.Errorf("resource %q: must start with /", r)
	}
	for _, seg := range splitPath(r) {
		if seg != "*" && seg != "**" && strings.Contains(seg, "*") {
			return fmt.Errorf("resource %q: a wildcard must be a whole path segment", r)
		}
	}
	return nil
}

// loadSeeds reads the KVM files of every scope.
func (d *productData) loadSeeds(root, org string) error {
	add := func(dir string, scope Scope) error {
		var kvms []jsonKVM
		found, err := decodeConfig(root, dir, &kvms, "kvms", "kvm")
		if err != nil || !found {
			return err
		}
		for _, m := range kvms {
			if m.Name == "" {
				return fmt.Errorf("%s: KVM without a name", dir)
			}
			enc := false
			if s := strings.TrimSpace(string(m.Encrypted)); s != "" {
				if enc, err = strconv.ParseBool(s); err != nil {
					return fmt.Errorf("%s: KVM %s: encrypted %q: want true or false", dir, m.Name, s)
				}
			}
			if len(m.Entry) == 0 && enc {
				// An encrypted map without seed entries is still encrypted.
				d.seeds = append(d.seeds, kvSeed{scope: scope, mapName: m.Name, encrypted: true, declareOnly: true})
			}
			for _, e := range m.Entry {
				d.seeds = append(d.seeds, kvSeed{scope: scope, mapName: m.Name, key: e.Name, value: string(e.Value), encrypted: enc})
			}
		}
		return nil
	}
	if err := add(filepath.Join(root, "org"), Scope{Kind: Organization, Org: org}); err != nil {
		return err
	}
	for _, sub := range []struct {
		dir  string
		kind ScopeKind
	}{{"env", Environment}, {"api", APIProxy}} {
		ents, err := os.ReadDir(filepath.Join(root, sub.dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			s := Scope{Kind: sub.kind, Org: org, Env: e.Name()}
			if sub.kind == APIProxy {
				s = Scope{Kind: APIProxy, Org: org, Proxy: e.Name()}
			}
			if err := add(filepath.Join(root, sub.dir, e.Name()), s); err != nil {
				return err
			}
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ Products = (*FileProducts)(nil)
