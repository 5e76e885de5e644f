package policies

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// KeyValueMapOperations (Apigee docs: KeyValueMapOperations) reads, writes and deletes
// entries of a key value map in the state store (store.KV):
//
//	<KeyValueMapOperations name="KVM" mapIdentifier="settings">   <!-- X: <MapName ref="var">literal</MapName> -->
//	  <Scope>environment</Scope>            <!-- organization|environment|apiproxy|policy -->
//	  <ExpiryTimeInSecs>300</ExpiryTimeInSecs>
//	  <InitialEntries><Entry><Key><Parameter>k</Parameter></Key><Value>v</Value></Entry></InitialEntries>
//	  <Get assignTo="private.secret" index="1"><Key><Parameter>a</Parameter><Parameter ref="var"/></Key></Get>
//	  <Put override="true"><Key>…</Key><Value ref="var"/></Put>
//	  <Delete><Key>…</Key></Delete>
//	</KeyValueMapOperations>
//
// What it relies on (Apigee's KeyValueMapOperations reference and its
// deployment/runtime error pages):
//
//   - The map is mapIdentifier, else <MapName> (literal, or ref= read at run
//     time with the literal as fallback), else "kvmap" (Edge's default). An
//     empty name (mapIdentifier="" or a MapName resolving to "") is the
//     runtime fault UnsupportedOperationException (500) with Apigee's exact
//     body: faultstring "java.lang.UnsupportedOperationException", errorcode
//     "Internal Server Error" (the KVM runtime-error troubleshooting page).
//   - <Scope> defaults to environment. The scope's names come from the
//     deployment (organization, environment), the proxy (apiproxy, also
//     for shared flows) and the policy name (policy).
//   - A key's <Parameter>s are joined with "__" (Apigee: "the effective
//     key string is the concatenation of the values of each parameter,
//     joined with a double underscore"). A parameter whose ref does not
//     resolve and that has no literal skips the operation: a Get leaves
//     assignTo untouched, a Put or Delete changes nothing.
//   - A Get of a missing key leaves assignTo untouched. index must be 1
//     (an index of 0 or below is Apigee's InvalidIndex deployment error);
//     flowproc stores one value per key, so an index above 1 is refused at
//     load rather than silently answering the first value. private.*
//     variables are masked in traces by the engine.
//   - <Put override> defaults to false: an existing entry is kept. A <Value>
//     ref that does not resolve skips the Put. One <Value> per Put (Edge's
//     multi-value entries are not supported: load error).
//   - <InitialEntries> are written with override=false before the policy's
//     first operation against a store (Apigee writes them at deployment;
//     override=false makes the result the same for this policy's map).
//   - <ExpiryTimeInSecs> (default 300; 0 or below means the default) is how
//     long a value read by Get may be served from an in-process cache. A
//     Put or Delete through a KVM policy of this process drops the cached
//     entry; other replicas see the change once their cached copy expires,
//     as with Apigee's message-processor cache. <ExclusiveCache> is
//     accepted and has no effect.
//   - Operations run in document order; the store's failures (Redis down:
//     store.ErrUnavailable) fail closed with the 500 fault
//     steps.keyvaluemapoperations.ExecutionFailed.
//   - Encrypted maps (Apigee's "encrypted" KVMs): a map is encrypted when
//     a KVM seed file of the deployment's products directory flags it
//     ("encrypted": true; docs/state.md). Its values are stored sealed
//     with the process's KVM key (store.CryptKV, AES-256-GCM): memory and
//     Redis hold ciphertext; Put and InitialEntries seal, Get opens. A Get
//     from an encrypted map whose assignTo is not a private.* variable is
//     Apigee's SetVariableFailed (500, "Failed to set variable {0} in
//     KeyValueMapStepDefinition {1}"; the KVM runtime-error page: "you try
//     to retrieve a value from an encrypted key value map and set the
//     value to a variable whose name does not have the prefix private") —
//     raised whether or not the key exists [inferred: fail closed]. A
//     stored value that does not decrypt (another key, altered) is the 500
//     ExecutionFailed. private.* variables are masked in traces. The
//     in-process read cache (ExpiryTimeInSecs) holds decrypted values, as
//     Apigee's message processors do.
//   - SetVariableFailed is also raised when assignTo cannot be written (a
//     read-only variable).
func init() {
	engine.Register(engine.Kind{Type: "KeyValueMapOperations", Prefix: kvmPrefix, New: newKeyValueMapOperations, Recyclable: true})
}

const (
	kvmPrefix = "keyvaluemapoperations"
	// kvmDefaultMap is the map Edge uses without mapIdentifier.
	kvmDefaultMap = "kvmap"
	// kvmDefaultExpiry is Apigee's default cache time of read values.
	kvmDefaultExpiry = 300 * time.Second
	// kvmMaxKeyBytes bounds a computed key; a longer key skips the
	// operation (it cannot name a stored entry worth reading).
	kvmMaxKeyBytes = 16 << 10
)

type kvmParam struct {
	ref, lit string
}

type kvmOpKind int

const (
	kvmGet kvmOpKind = iota
	kvmPut
	kvmDelete
)

type kvmOp struct {
	kind     kvmOpKind
	key      []kvmParam
	assignTo string   // Get
	value    kvmParam // Put
	override bool     // Put
}

type kvmEntry struct {
	key   []kvmParam
	value string
}

type keyValueMapOperations struct {
	name     string
	mapLit   string
	mapRef   string
	mapEmpty bool // mapIdentifier="" given: UnsupportedOperationException
	scope    store.ScopeKind
	expiry   time.Duration
	ops      []kvmOp
	initial  []kvmEntry

	seedMu sync.Mutex
	seeded []store.KV // stores the initial entries were written to
}

func newKeyValueMapOperations(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Scope", "MapName", "ExpiryTimeInSecs", "ExclusiveCache", "InitialEntries", "Get", "Put", "Delete")...)
	k := &keyValueMapOperations{name: p.Name, scope: store.Environment, expiry: kvmDefaultExpiry}
	ok := true
	if id, has := root.Attr("mapIdentifier"); has {
		k.mapLit = strings.TrimSpace(id)
		k.mapEmpty = k.mapLit == ""
		if root.Child("MapName") != nil {
			c.Errorf(root.Child("MapName"), diag.APBadPolicy, "KeyValueMapOperations %s has both mapIdentifier and <MapName>", p.Name)
			ok = false
		}
	} else if mn := root.Child("MapName"); mn != nil {
		ref, _ := mn.Attr("ref")
		k.mapRef, k.mapLit = strings.TrimSpace(ref), mn.Text
		if k.mapRef == "" && k.mapLit == "" {
			c.Errorf(mn, diag.APMissingElement, "KeyValueMapOperations %s: <MapName> needs a name or ref=", p.Name)
			ok = false
		}
	} else {
		k.mapLit = kvmDefaultMap
	}
	if s := root.Child("Scope"); s != nil {
		kind, err := store.ParseScopeKind(s.Text)
		if err != nil {
			c.Errorf(s, diag.APBadPolicy, "KeyValueMapOperations %s: <Scope> %q: want organization, environment, apiproxy or policy", p.Name, s.Text)
			ok = false
		}
		k.scope = kind
	}
	if e := root.Child("ExpiryTimeInSecs"); e != nil {
		n, err := strconv.ParseInt(strings.TrimSpace(e.Text), 10, 64)
		switch {
		case err != nil:
			c.Errorf(e, diag.APBadPolicy, "KeyValueMapOperations %s: <ExpiryTimeInSecs> %q is not an integer", p.Name, e.Text)
			ok = false
		case n > 0:
			k.expiry = time.Duration(min(n, 365*24*3600)) * time.Second
		}
	}
	if ec := root.Child("ExclusiveCache"); ec != nil {
		c.Bool(ec, ec.Text, false)
	}
	if ie := root.Child("InitialEntries"); ie != nil {
		c.Unknown(ie, "Entry")
		for _, en := range ie.Children {
			if en.Name != "Entry" {
				continue
			}
			c.Unknown(en, "Key", "Value")
			key, kok := kvmKey(c, p.Name, en, true)
			var vals []*bundle.Node
			for _, ch := range en.Children {
				if ch.Name == "Value" {
					vals = append(vals, ch)
				}
			}
			switch {
			case len(vals) == 0:
				c.Errorf(en, diag.APMissingElement, "KeyValueMapOperations %s: <InitialEntries> <Entry> without <Value> (ValueIsMissing)", p.Name)
				kok = false
			case len(vals) > 1:
				c.Errorf(vals[1], diag.APBadPolicy, "KeyValueMapOperations %s: an entry with several <Value>s (Edge multi-value entries) is not supported", p.Name)
				kok = false
			}
			if !kok {
				ok = false
				continue
			}
			k.initial = append(k.initial, kvmEntry{key: key, value: vals[0].Text})
		}
	}
	for _, ch := range root.Children {
		var op kvmOp
		switch ch.Name {
		case "Get":
			op.kind = kvmGet
			c.Unknown(ch, "Key")
			a, _ := ch.Attr("assignTo")
			op.assignTo = strings.TrimSpace(a)
			if op.assignTo == "" {
				c.Errorf(ch, diag.APMissingElement, "KeyValueMapOperations %s: <Get> needs assignTo=", p.Name)
				ok = false
			}
			if idx, has := ch.Attr("index"); has {
				n, err := strconv.Atoi(strings.TrimSpace(idx))
				switch {
				case err != nil || n <= 0:
					c.Errorf(ch, diag.APBadPolicy, "Invalid index %s in KeyValueMapStepDefinition %s (InvalidIndex: the index starts at 1)", idx, p.Name)
					ok = false
				case n > 1:
					c.Errorf(ch, diag.APBadPolicy, "KeyValueMapOperations %s: index %d: flowproc stores one value per key (Edge multi-value entries are not supported)", p.Name, n)
					ok = false
				}
			}
		case "Put":
			op.kind = kvmPut
			c.Unknown(ch, "Key", "Value")
			ov, _ := ch.Attr("override")
			op.override = c.Bool(ch, ov, false)
			var vals []*bundle.Node
			for _, v := range ch.Children {
				if v.Name == "Value" {
					vals = append(vals, v)
				}
			}
			switch {
			case len(vals) == 0:
				c.Errorf(ch, diag.APMissingElement, "KeyValueMapOperations %s: <Put> without <Value> (ValueIsMissing)", p.Name)
				ok = false
			case len(vals) > 1:
				c.Errorf(vals[1], diag.APBadPolicy, "KeyValueMapOperations %s: a <Put> with several <Value>s (Edge multi-value entries) is not supported", p.Name)
				ok = false
			default:
				ref, _ := vals[0].Attr("ref")
				op.value = kvmParam{ref: strings.TrimSpace(ref), lit: vals[0].Text}
			}
		case "Delete":
			op.kind = kvmDelete
			c.Unknown(ch, "Key")
		default:
			continue
		}
		key, kok := kvmKey(c, p.Name, ch, false)
		if !kok {
			ok = false
			continue
		}
		op.key = key
		k.ops = append(k.ops, op)
	}
	if len(k.ops) == 0 && ok {
		c.Errorf(root, diag.APMissingElement, "KeyValueMapOperations %s has no <Get>, <Put> or <Delete>", p.Name)
		ok = false
	}
	if !ok {
		return nil
	}
	return k
}

// kvmKey compiles the <Key> of n. In InitialEntries the parameters must be
// literals.
func kvmKey(c *engine.Compiler, policy string, n *bundle.Node, literalOnly bool) ([]kvmParam, bool) {
	kn := n.Child("Key")
	if kn == nil {
		c.Errorf(n, diag.APMissingElement, "KeyValueMapOperations %s: <%s> without <Key> (KeyIsMissing)", policy, n.Name)
		return nil, false
	}
	c.Unknown(kn, "Parameter")
	var out []kvmParam
	for _, pn := range kn.Children {
		if pn.Name != "Parameter" {
			continue
		}
		ref, _ := pn.Attr("ref")
		ref = strings.TrimSpace(ref)
		if literalOnly && ref != "" {
			c.Errorf(pn, diag.APBadPolicy, "KeyValueMapOperations %s: <InitialEntries> keys are literals (ref= is not allowed)", policy)
			return nil, false
		}
		if ref == "" && pn.Text == "" {
			c.Errorf(pn, diag.APMissingElement, "KeyValueMapOperations %s: empty <Parameter>", policy)
			return nil, false
		}
		out = append(out, kvmParam{ref: ref, lit: pn.Text})
	}
	if len(out) == 0 {
		c.Errorf(kn, diag.APMissingElement, "KeyValueMapOperations %s: <Key> without <Parameter> (KeyIsMissing)", policy)
		return nil, false
	}
	return out, true
}

// resolve returns the value of a parameter: its ref when that resolves,
// else its literal; ok is false when neither gives a value.
func (p kvmParam) resolve(r *engine.Run) (string, bool) {
	if p.ref != "" {
		if v, ok := r.Get(p.ref); ok {
			return v, true
		}
	}
	if p.lit != "" {
		return p.lit, true
	}
	return "", false
}

func kvmJoin(r *engine.Run, params []kvmParam) (string, bool) {
	var b strings.Builder
	for i, p := range params {
		v, ok := p.resolve(r)
		if !ok {
			return "", false
		}
		if i > 0 {
			b.WriteString("__")
		}
		b.WriteString(v)
		if b.Len() > kvmMaxKeyBytes {
			return "", false
		}
	}
	return b.String(), true
}

// Execute implements engine.Policy.
func (k *keyValueMapOperations) Execute(r *engine.Run) error {
	mapName := k.mapLit
	if k.mapRef != "" {
		if v, ok := r.Get(k.mapRef); ok {
			mapName = v
		}
	}
	if k.mapEmpty || mapName == "" {
		return &engine.Fault{Name: "UnsupportedOperationException", Code: "Internal Server Error", Status: 500,
			Message: "java.lang.UnsupportedOperationException"}
	}
	st := r.State()
	if st == nil || st.KV == nil {
		return k.storeFault(errors.New("no key value map store"))
	}
	kv := st.KV
	dep := r.Deployment()
	scope := store.Scope{Kind: k.scope, Org: dep.Organization, Env: dep.Environment, Proxy: r.ProxyName(), Policy: k.name}
	ctx := r.Ctx()
	if err := k.seed(r, kv, scope, mapName); err != nil {
		return k.storeFault(err)
	}
	for _, op := range k.ops {
		key, ok := kvmJoin(r, op.key)
		if !ok {
			r.Print(k.name, "key parameter unresolved: operation skipped")
			continue
		}
		ck, cacheable := kvmCacheKey(kv, scope, mapName, key)
		switch op.kind {
		case kvmGet:
			if !strings.HasPrefix(op.assignTo, "private.") && kvmEncrypted(kv, scope, mapName) {
				// Apigee: a value of an encrypted map may only be read
				// into a private.* variable (SetVariableFailed).
				return engine.NewFault(kvmPrefix, "SetVariableFailed", 500, "Failed to set variable %s in KeyValueMapStepDefinition %s", op.assignTo, k.name)
			}
			v, found := "", false
			if cacheable {
				v, found = kvmCache.get(kv, ck)
			}
			if !found {
				var err error
				v, found, err = kv.Get(ctx, scope, mapName, key)
				if err != nil {
					return k.storeFault(err)
				}
				if found && cacheable {
					kvmCache.put(kv, ck, v, k.expiry)
				}
			}
			if !found {
				continue
			}
			if err := r.Set(op.assignTo, v); err != nil {
				// Apigee's faultstring (Key Value Map Operations runtime
				// error troubleshooting, SetVariableFailed).
				f := engine.NewFault(kvmPrefix, "SetVariableFailed", 500, "Failed to set variable %s in KeyValueMapStepDefinition %s", op.assignTo, k.name)
				f.Err = err
				return f
			}
		case kvmPut:
			v, ok := op.value.resolve(r)
			if !ok {
				r.Print(k.name, "value unresolved: put skipped")
				continue
			}
			if cacheable {
				kvmCache.drop(ck)
			}
			if err := kv.Put(ctx, scope, mapName, key, v, 0, op.override); err != nil {
				return k.storeFault(err)
			}
		case kvmDelete:
			if cacheable {
				kvmCache.drop(ck)
			}
			if err := kv.Delete(ctx, scope, mapName, key); err != nil {
				return k.storeFault(err)
			}
		}
	}
	return nil
}

// seed writes the initial entries once per store (retried after a
// failure).
func (k *keyValueMapOperations) seed(r *engine.Run, kv store.KV, scope store.Scope, mapName string) error {
	if len(k.initial) == 0 {
		return nil
	}
	k.seedMu.Lock()
	defer k.seedMu.Unlock()
	for _, s := range k.seeded {
		if kvmSame(s, kv) {
			return nil
		}
	}
	for _, e := range k.initial {
		key, ok := kvmJoin(r, e.key)
		if !ok {
			continue
		}
		if err := kv.Put(r.Ctx(), scope, mapName, key, e.value, 0, false); err != nil {
			return err
		}
	}
	if len(k.seeded) < 16 {
		k.seeded = append(k.seeded, kv)
	}
	return nil
}

func (k *keyValueMapOperations) storeFault(err error) error {
	why := "key value map store unavailable"
	if errors.Is(err, store.ErrKVMSealed) {
		why = "an encrypted value does not decrypt with this process's KVM key"
	}
	f := engine.NewFault(kvmPrefix, "ExecutionFailed", 500, "Execution of KeyValueMapOperations %s failed: %s", k.name, why)
	f.Err = err
	return f
}

// kvmEncrypted reports whether the map is declared encrypted in kv (a
// store.CryptKV; the KVM seed files' "encrypted" flag).
func kvmEncrypted(kv store.KV, scope store.Scope, mapName string) bool {
	e, ok := kv.(interface {
		Encrypted(scope store.Scope, mapName string) bool
	})
	return ok && e.Encrypted(scope, mapName)
}

// kvmSame compares two stores by identity (only comparable ones: the
// stores are pointers).
func kvmSame(a, b store.KV) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

// kvmCacheKey is the cache key of an entry; ok is false for a store that
// cannot be told apart from another (not comparable).
func kvmCacheKey(kv store.KV, scope store.Scope, mapName, key string) (string, bool) {
	t := reflect.TypeOf(kv)
	if t == nil || !t.Comparable() {
		return "", false
	}
	p, err := scope.Path()
	if err != nil {
		return "", false
	}
	return p + "\x00" + mapName + "\x00" + key, true
}

// kvmValueCache is the process-wide cache of values read by Get,
// shared by every KVM policy so that a Put or Delete drops what another
// policy cached.
type kvmValueCache struct {
	mu      sync.Mutex
	entries map[string]kvmCached
}

type kvmCached struct {
	kv      store.KV // the store the value came from (held: no address reuse)
	value   string
	expires time.Time
}

const (
	kvmCacheMaxEntries    = 10000
	kvmCacheMaxValueBytes = 64 << 10
)

var kvmCache = &kvmValueCache{entries: map[string]kvmCached{}}

func (c *kvmValueCache) get(kv store.KV, key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !kvmSame(e.kv, kv) {
		return "", false
	}
	if !time.Now().Before(e.expires) {
		delete(c.entries, key)
		return "", false
	}
	return e.value, true
}

func (c *kvmValueCache) put(kv store.KV, key, value string, ttl time.Duration) {
	if len(value) > kvmCacheMaxValueBytes || ttl <= 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= kvmCacheMaxEntries {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= kvmCacheMaxEntries {
			c.entries = map[string]kvmCached{}
		}
	}
	c.entries[key] = kvmCached{kv: kv, value: value, expires: now.Add(ttl)}
}

func (c *kvmValueCache) drop(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}
