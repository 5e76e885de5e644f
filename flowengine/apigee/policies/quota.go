package policies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// Quota (Apigee docs: Quota) counts requests per identifier over an interval
// in the state store's Counter and raises QuotaViolation beyond the
// allowed count:
//
//	<Quota name="Q" type="calendar|rollingwindow|flexi">
//	  <Allow count="20" countRef="var"><Class ref="var"><Allow class="gold" count="100"/></Class></Allow>
//	  <Interval ref="var">1</Interval><TimeUnit ref="var">minute</TimeUnit>
//	  <StartTime>2017-7-16 12:00:00</StartTime>
//	  <Identifier ref="client_id"/><MessageWeight ref="request.header.weight"/>
//	  <UseQuotaConfigInAPIProduct stepName="VA"><DefaultConfig>…</DefaultConfig></UseQuotaConfigInAPIProduct>
//	  <SharedName>s</SharedName><CountOnly>true</CountOnly><EnforceOnly>true</EnforceOnly>
//	</Quota>
//
// Semantics relied on (Apigee Quota policy page; flowproc choices marked):
//   - No type attribute: windows start at the top of the unit (minute,
//     hour, midnight UTC, Monday, the 1st); "calendar" aligns them to
//     <StartTime> (UTC, "yyyy-M-d HH:mm:ss"; without it, like the
//     default); "flexi" starts at a key's first request; "rollingwindow"
//     counts the last interval (store.Counter's bucketed approximation).
//   - References win over literal values when they resolve: countRef over
//     count, <Interval ref> and <TimeUnit ref> over the text. A matching
//     <Class> entry wins over both.
//   - The counter key is the proxy name, the policy name (or SharedName)
//     and the identifier ("_default" when there is no <Identifier> or it
//     does not resolve, as in Apigee's faultstring). QuotaKey builds it.
//   - <Distributed>, <Synchronous> and <AsynchronousConfiguration> are
//     accepted and have no effect: every count goes synchronously through
//     the state store, which is shared by all replicas when it is Redis.
//   - A refused request is not counted (used.count stays at the limit).
//     ratelimit.<p>.exceed.count and total.exceed.count are 1 after a
//     violation, 0 otherwise, as Apigee's variable table says.
//   - QuotaViolation has status 429 (Apigee X, and Edge orgs with
//     features.isHTTPStatusTooManyRequestEnabled; old Edge orgs used 500).
//   - The state store unreachable (store.ErrUnavailable) fails closed:
//     fault StoreUnavailable (flowproc.ratelimit.StoreUnavailable, 503).
//     The policy property <Property name="flowproc.failOpen">true</Property>
//     lets the request pass instead (variable
//     ratelimit.<p>.store.unavailable is then true).
func init() {
	engine.Register(engine.Kind{Type: "Quota", Prefix: "ratelimit", New: newQuota, Recyclable: true})
}

// quotaDefaultIdentifier is the identifier of a quota without one.
const quotaDefaultIdentifier = "_default"

// failOpenProperty is the policy property that lets Quota and SpikeArrest
// pass requests when the state store is unreachable.
const failOpenProperty = "flowproc.failOpen"

// quotaIntRef is an integer that may come from a flow variable: the
// variable wins when it resolves, else the literal value (when set).
type quotaIntRef struct {
	ref string
	val int64
	set bool
}

// quotaUnitRef is a time unit that may come from a flow variable.
type quotaUnitRef struct {
	ref  string
	unit store.TimeUnit
	set  bool
}

type quotaPolicy struct {
	name        string // policy name
	counterName string // SharedName, else the policy name
	kind        store.WindowKind
	start       time.Time
	allow       quotaIntRef
	classRef    string
	classes     map[string]int64
	interval    quotaIntRef
	unit        quotaUnitRef
	identRef    string
	weightRef   string
	// productVars is the variable prefix of UseQuotaConfigInAPIProduct
	// ("verifyapikey.VA.apiproduct.developer.quota."); "" when unused.
	productVars string
	countOnly   bool
	enforceOnly bool
	failOpen    bool
}

// quotaErrorf reports a load problem (Compiler.Errorf, or nothing when
// ResetQuota re-reads a Quota that reports its own problems).
type quotaErrorf func(n *bundle.Node, code diag.Code, format string, args ...any)

func newQuota(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	q := parseQuota(c, p, c.Errorf, true)
	if q == nil {
		return nil
	}
	return q
}

// parseQuota compiles a Quota policy element; check enables the
// unknown-element checks (off when ResetQuota reads its target).
func parseQuota(c *engine.Compiler, p *bundle.Policy, errf quotaErrorf, check bool) *quotaPolicy {
	root := p.Root
	bad := false
	fail := func(n *bundle.Node, code diag.Code, format string, args ...any) {
		bad = true
		errf(n, code, format, args...)
	}
	if check {
		c.Unknown(root, allowed("Allow", "Interval", "TimeUnit", "StartTime", "Identifier", "MessageWeight",
			"Distributed", "Synchronous", "AsynchronousConfiguration", "UseQuotaConfigInAPIProduct",
			"SharedName", "CountOnly", "EnforceOnly")...)
	}
	q := &quotaPolicy{name: p.Name, counterName: p.Name}
	switch t := quotaAttr(root, "type"); t {
	case "":
		q.kind = store.Calendar
	case "calendar":
		q.kind = store.Calendar
	case "rollingwindow":
		q.kind = store.Rolling
	case "flexi":
		q.kind = store.Flexi
	default:
		fail(root, diag.APBadPolicy, "Quota %s: type %q (want calendar, rollingwindow or flexi)", p.Name, t)
	}
	boolOf := func(name string) bool {
		n := root.Child(name)
		if n == nil {
			return false
		}
		switch strings.ToLower(strings.TrimSpace(n.Text)) {
		case "", "false":
			return false
		case "true":
			return true
		}
		fail(n, diag.APBadPolicy, "<%s> %q is not true or false", name, n.Text)
		return false
	}
	boolOf("Distributed")
	boolOf("Synchronous")
	q.countOnly, q.enforceOnly = boolOf("CountOnly"), boolOf("EnforceOnly")
	if q.countOnly && q.enforceOnly {
		fail(root, diag.APBadPolicy, "Quota %s: <CountOnly> and <EnforceOnly> cannot both be true", p.Name)
	}
	if n := root.Child("AsynchronousConfiguration"); n != nil && check {
		c.Unknown(n, "SyncIntervalInSeconds", "SyncMessageCount")
	}
	if n := root.Child("SharedName"); n != nil {
		if n.Text == "" {
			fail(n, diag.APBadPolicy, "Quota %s: empty <SharedName>", p.Name)
		}
		q.counterName = n.Text
	}
	if n := root.Child("Identifier"); n != nil {
		q.identRef = strings.TrimSpace(quotaAttr(n, "ref"))
		if q.identRef == "" {
			fail(n, diag.APMissingElement, "Quota %s: <Identifier> needs ref=", p.Name)
		}
	}
	if n := root.Child("MessageWeight"); n != nil {
		q.weightRef = strings.TrimSpace(quotaAttr(n, "ref"))
		if q.weightRef == "" {
			fail(n, diag.APMissingElement, "Quota %s: <MessageWeight> needs ref=", p.Name)
		}
	}
	if n := root.Child("StartTime"); n != nil {
		t, err := time.Parse("2006-1-2 15:04:05", n.Text)
		if err != nil {
			fail(n, diag.APBadPolicy, "Quota %s: <StartTime> %q (want yyyy-MM-dd HH:mm:ss)", p.Name, n.Text)
		}
		if quotaAttr(root, "type") != "calendar" {
			fail(n, diag.APBadPolicy, "Quota %s: <StartTime> needs type=\"calendar\"", p.Name)
		}
		q.start = t.UTC()
	}
	if cfg := root.Child("UseQuotaConfigInAPIProduct"); cfg != nil {
		q.parseProduct(c, cfg, fail, check)
	} else {
		q.parseAllow(root.Child("Allow"), root, fail, check)
		q.interval = parseQuotaInt(root.Child("Interval"), "Interval", p.Name, fail)
		q.unit = parseQuotaUnit(root.Child("TimeUnit"), p.Name, fail)
		if q.interval.ref == "" && !q.interval.set {
			fail(root, diag.APMissingElement, "Quota %s: no <Interval>", p.Name)
		}
		if q.unit.ref == "" && !q.unit.set {
			fail(root, diag.APMissingElement, "Quota %s: no <TimeUnit>", p.Name)
		}
	}
	if q.kind == store.Rolling && q.unit.set && q.unit.unit == store.Month {
		fail(root, diag.APBadPolicy, "Quota %s: type rollingwindow cannot count in months (use day or week)", p.Name)
	}
	if q.interval.set && q.unit.set {
		if err := (store.Window{Kind: q.kind, Interval: q.interval.val, Unit: q.unit.unit}).Validate(); err != nil {
			fail(root, diag.APBadPolicy, "Quota %s: %v", p.Name, err)
		}
	}
	q.failOpen = policyProperty(root, failOpenProperty) == "true"
	if bad {
		return nil
	}
	return q
}

// parseAllow reads <Allow count= countRef=> with its optional <Class>.
func (q *quotaPolicy) parseAllow(n, root *bundle.Node, fail quotaErrorf, check bool) {
	if n == nil {
		fail(root, diag.APMissingElement, "Quota %s: no <Allow>", q.name)
		return
	}
	for _, ch := range n.Children {
		if ch.Name != "Class" && check {
			fail(ch, diag.APUnknownElement, "unknown element <%s> in <Allow>", ch.Name)
		}
	}
	q.allow.ref = strings.TrimSpace(quotaAttr(n, "countRef"))
	if s := strings.TrimSpace(quotaAttr(n, "count")); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			fail(n, diag.APBadPolicy, "Quota %s: <Allow count=%q> is not a non-negative integer", q.name, s)
		}
		q.allow.val, q.allow.set = v, true
	} else if s := strings.TrimSpace(n.Text); s != "" {
		// <Allow>10</Allow> (the DefaultConfig form) is taken too.
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			fail(n, diag.APBadPolicy, "Quota %s: <Allow> %q is not a non-negative integer", q.name, s)
		}
		q.allow.val, q.allow.set = v, true
	}
	if cl := n.Child("Class"); cl != nil {
		q.classRef = strings.TrimSpace(quotaAttr(cl, "ref"))
		if q.classRef == "" {
			fail(cl, diag.APMissingElement, "Quota %s: <Class> needs ref=", q.name)
		}
		q.classes = map[string]int64{}
		for _, a := range cl.Children {
			if a.Name != "Allow" {
				if check {
					fail(a, diag.APUnknownElement, "unknown element <%s> in <Class>", a.Name)
				}
				continue
			}
			name, s := quotaAttr(a, "class"), strings.TrimSpace(quotaAttr(a, "count"))
			v, err := strconv.ParseInt(s, 10, 64)
			if name == "" || err != nil || v < 0 {
				fail(a, diag.APBadPolicy, "Quota %s: <Allow class=%q count=%q> needs a class and a non-negative count", q.name, name, s)
				continue
			}
			q.classes[name] = v
		}
	}
	if q.allow.ref == "" && !q.allow.set && len(q.classes) == 0 {
		fail(n, diag.APMissingElement, "Quota %s: <Allow> needs count=, countRef= or <Class>", q.name)
	}
}

// parseProduct reads <UseQuotaConfigInAPIProduct stepName="VA"> with its
// <DefaultConfig>. The step must be a VerifyAPIKey policy (its variables
// are verifyapikey.<step>.apiproduct.developer.quota.limit, .interval and
// .timeunit) or an OAuthV2 policy (apiproduct.developer.quota.*).
func (q *quotaPolicy) parseProduct(c *engine.Compiler, cfg *bundle.Node, fail quotaErrorf, check bool) {
	if check {
		c.Unknown(cfg, "DefaultConfig")
	}
	step := strings.TrimSpace(quotaAttr(cfg, "stepName"))
	var sp *bundle.Policy
	if c.Bundle != nil {
		sp = c.Bundle.Policies[step]
	}
	switch {
	case step == "":
		fail(cfg, diag.APMissingElement, "Quota %s: <UseQuotaConfigInAPIProduct> needs stepName=", q.name)
	case sp == nil:
		fail(cfg, diag.APMissingPolicy, "Quota %s: stepName %q names no policy of this bundle", q.name, step)
	case sp.Type == "VerifyAPIKey":
		q.productVars = "verifyapikey." + step + ".apiproduct.developer.quota."
	case sp.Type == "OAuthV2":
		q.productVars = "apiproduct.developer.quota."
	default:
		fail(cfg, diag.APBadPolicy, "Quota %s: stepName %q is a %s policy (want VerifyAPIKey or OAuthV2)", q.name, step, sp.Type)
	}
	q.allow.ref, q.interval.ref, q.unit.ref = q.productVars+"limit", q.productVars+"interval", q.productVars+"timeunit"
	def := cfg.Child("DefaultConfig")
	if def == nil {
		return // no product quota and no default: the run fails to resolve
	}
	if check {
		c.Unknown(def, "Allow", "Interval", "TimeUnit")
	}
	if a := def.Child("Allow"); a != nil {
		d := parseQuotaInt(a, "Allow", q.name, fail)
		q.allow.val, q.allow.set = d.val, d.set
	}
	if a := def.Child("Interval"); a != nil {
		d := parseQuotaInt(a, "Interval", q.name, fail)
		q.interval.val, q.interval.set = d.val, d.set
	}
	if a := def.Child("TimeUnit"); a != nil {
		d := parseQuotaUnit(a, q.name, fail)
		q.unit.unit, q.unit.set = d.unit, d.set
	}
}

func parseQuotaInt(n *bundle.Node, elem, policy string, fail quotaErrorf) quotaIntRef {
	var r quotaIntRef
	if n == nil {
		return r
	}
	r.ref = strings.TrimSpace(quotaAttr(n, "ref"))
	if s := strings.TrimSpace(n.Text); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || (elem == "Interval" && v < 1) {
			fail(n, diag.APBadPolicy, "Invalid quota %s %s in quota policy %s", strings.ToLower(elem), s, policy)
			return r
		}
		r.val, r.set = v, true
	}
	return r
}

func parseQuotaUnit(n *bundle.Node, policy string, fail quotaErrorf) quotaUnitRef {
	var r quotaUnitRef
	if n == nil {
		return r
	}
	r.ref = strings.TrimSpace(quotaAttr(n, "ref"))
	if s := strings.TrimSpace(n.Text); s != "" {
		u, err := store.ParseTimeUnit(s)
		if err != nil || u == store.Second {
			fail(n, diag.APBadPolicy, "Invalid quota time unit %s in quota policy %s", s, policy)
			return r
		}
		r.unit, r.set = u, true
	}
	return r
}

// policyProperty returns the value of <Properties><Property name=…> ("").
func policyProperty(root *bundle.Node, name string) string {
	ps := root.Child("Properties")
	if ps == nil {
		return ""
	}
	for _, p := range ps.Children {
		if p.Name == "Property" && quotaAttr(p, "name") == name {
			return strings.ToLower(strings.TrimSpace(p.Text))
		}
	}
	return ""
}

// QuotaKey is the counter key of a Quota policy (or SharedName) counting
// identifier in proxy: ResetQuota and tests address counters with it.
func QuotaKey(proxy, counterName, identifier string) string {
	return "quota\x00" + proxy + "\x00" + counterName + "\x00" + identifier
}

// quotaFault builds a ratelimit fault with Apigee's policies.ratelimit code.
func quotaFault(name string, status int, format string, args ...any) *engine.Fault {
	return &engine.Fault{Name: name, Code: "policies.ratelimit." + name, Status: status, Message: fmt.Sprintf(format, args...)}
}

// storeUnavailable is the fault of a rate-limit policy that cannot reach
// the state store and fails closed.
func storeUnavailable(err error) *engine.Fault {
	return &engine.Fault{Name: "StoreUnavailable", Code: "flowproc.ratelimit.StoreUnavailable", Status: 503,
		Message: "Rate limit store unavailable", Err: err}
}

// quotaIdentifier resolves an <Identifier ref=> ("_default" when unset).
func quotaIdentifier(r *engine.Run, ref string) string {
	if ref == "" {
		return quotaDefaultIdentifier
	}
	if v, ok := r.Get(ref); ok && v != "" {
		return v
	}
	return quotaDefaultIdentifier
}

// messageWeight resolves a <MessageWeight ref=>: 1 when unset or
// unresolved; a value that is not a positive integer is the
// InvalidMessageWeight fault ("Invalid message weight value 1.5").
func messageWeight(r *engine.Run, ref string) (int64, error) {
	if ref == "" {
		return 1, nil
	}
	v, ok := r.Get(ref)
	if !ok || v == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 {
		return 0, quotaFault("InvalidMessageWeight", 500, "Invalid message weight value %s", v)
	}
	return n, nil
}

// quotaRun is a Quota's configuration resolved for one request.
type quotaRun struct {
	id, class string
	limit     int64
	window    store.Window
	key       string
}

// resolve evaluates the references of q for r.
func (q *quotaPolicy) resolve(r *engine.Run) (quotaRun, error) {
	out := quotaRun{id: quotaIdentifier(r, q.identRef)}
	out.key = QuotaKey(r.ProxyName(), q.counterName, out.id)
	limit, ok, err := resolveQuotaInt(r, q.allow)
	if err != nil {
		return out, err
	}
	if q.classRef != "" {
		if cl, found := r.Get(q.classRef); found {
			out.class = cl
			if n, hit := q.classes[cl]; hit {
				limit, ok = n, true
			}
		}
	}
	if !ok {
		return out, quotaFault("FailedToResolveAllowCountReference", 500, "Failed to resolve allow count reference %s in quota policy %s", q.allow.ref, q.name)
	}
	out.limit = limit
	w, err := q.windowOf(r)
	if err != nil {
		return out, err
	}
	out.window = w
	return out, nil
}

// windowOf resolves the policy's window (interval and time unit) for r.
func (q *quotaPolicy) windowOf(r *engine.Run) (store.Window, error) {
	interval, ok, err := resolveQuotaInt(r, q.interval)
	if err != nil {
		return store.Window{}, err
	}
	if !ok {
		return store.Window{}, quotaFault("FailedToResolveQuotaIntervalReference", 500, "Failed to resolve quota interval reference %s in quota policy %s", q.interval.ref, q.name)
	}
	unit, ok := q.unit.unit, q.unit.set
	if q.unit.ref != "" {
		if v, found := r.Get(q.unit.ref); found && v != "" {
			u, perr := store.ParseTimeUnit(v)
			if perr != nil || u == store.Second {
				return store.Window{}, quotaFault("InvalidQuotaTimeUnit", 500, "Invalid quota time unit %s in quota policy %s", v, q.name)
			}
			unit, ok = u, true
		}
	}
	if !ok {
		return store.Window{}, quotaFault("FailedToResolveQuotaIntervalTimeUnitReference", 500, "Failed to resolve quota time unit reference %s in quota policy %s", q.unit.ref, q.name)
	}
	w := store.Window{Kind: q.kind, Interval: interval, Unit: unit, Start: q.start}
	if err := w.Validate(); err != nil {
		return store.Window{}, quotaFault("InvalidQuotaInterval", 500, "Invalid quota interval %d %s in quota policy %s", interval, unit, q.name)
	}
	return w, nil
}

// resolveQuotaInt reads a reference (when it resolves), else the literal.
func resolveQuotaInt(r *engine.Run, v quotaIntRef) (int64, bool, error) {
	if v.ref != "" {
		if s, ok := r.Get(v.ref); ok && strings.TrimSpace(s) != "" {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil || n < 0 {
				return 0, false, fmt.Errorf("quota reference %s = %q is not a non-negative integer", v.ref, s)
			}
			return n, true, nil
		}
	}
	return v.val, v.set, nil
}

// Execute counts the request and faults beyond the limit.
func (q *quotaPolicy) Execute(r *engine.Run) error {
	qr, err := q.resolve(r)
	if err != nil {
		return err
	}
	weight, err := messageWeight(r, q.weightRef)
	if err != nil {
		return err
	}
	st := r.State()
	if st == nil || st.Counter == nil {
		return errors.New("quota: no state store")
	}
	var u store.Usage
	switch {
	case q.countOnly:
		u, err = st.Counter.Incr(r.Ctx(), qr.key, weight, qr.window)
	case q.enforceOnly:
		u, err = st.Counter.Get(r.Ctx(), qr.key, qr.window)
		u.Allowed = u.Count+weight <= qr.limit
	default:
		u, err = st.Counter.Take(r.Ctx(), qr.key, weight, qr.limit, qr.window)
	}
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			if q.failOpen {
				r.Print(q.name, "state store unavailable; failing open: "+err.Error())
				return r.Set("ratelimit."+q.name+".store.unavailable", true)
			}
			return storeUnavailable(err)
		}
		return fmt.Errorf("quota %s: %w", q.name, err)
	}
	q.setVars(r, qr, u)
	if !u.Allowed {
		return quotaFault("QuotaViolation", 429, "Rate limit quota violation. Quota limit  exceeded. Identifier : %s", qr.id)
	}
	return nil
}

// setVars sets the ratelimit.<policy>.* variables of Apigee's Quota table.
func (q *quotaPolicy) setVars(r *engine.Run, qr quotaRun, u store.Usage) {
	p := "ratelimit." + q.name + "."
	avail := qr.limit - u.Count
	if avail < 0 {
		avail = 0
	}
	var exceed int64
	if !u.Allowed {
		exceed = 1
	}
	expiry := int64(0) // nothing counted yet (EnforceOnly before any CountOnly)
	if !u.ResetAt.IsZero() {
		expiry = u.ResetAt.UnixMilli()
	}
	set := func(name string, v any) { _ = r.Set(p+name, v) }
	set("allowed.count", qr.limit)
	set("used.count", u.Count)
	set("available.count", avail)
	set("exceed.count", exceed)
	set("total.exceed.count", exceed)
	set("expiry.time", expiry)
	set("identifier", qr.id)
	if q.classRef != "" {
		set("class", qr.class)
		set("class.allowed.count", qr.limit)
		set("class.used.count", u.Count)
		set("class.available.count", avail)
		set("class.exceed.count", exceed)
		set("class.total.exceed.count", exceed)
	}
}

// quotaAttr is an attribute's value ("" when absent).
func quotaAttr(n *bundle.Node, name string) string {
	v, _ := n.Attr(name)
	return v
}
