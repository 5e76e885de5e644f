package policies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// ResetQuota lowers the count of a Quota policy of the same bundle:
//
//	<ResetQuota name="RQ"><Quota name="MyQuota"><!-- or ref="var" -->
//	  <Identifier name="_default"><!-- or ref="var" --><Allow>100</Allow><!-- or ref="var" --></Identifier>
//	</Quota></ResetQuota>
//
// Semantics relied on (Apigee ResetQuota policy page): <Allow> is the
// amount subtracted from the current count of that identifier's counter
// (never below zero), so the client gets that many more requests until
// the window ends. flowproc choices:
//   - <Allow> absent forgets the counter (count 0).
//   - A <Quota name=> that is not a Quota policy of the bundle is a load
//     error, unless it contains a dot: Edge's samples put a flow variable
//     there, so it is then read as ref=; <Quota ref=> resolving to no Quota policy is the runtime
//     fault InvalidRLPolicy (policies.resetquota.InvalidRLPolicy, 500,
//     "Invalid rate limit policy <name>").
//   - An <Identifier ref=> that does not resolve addresses "_default",
//     as the Quota policy does.
//   - The subtraction is read, forget, add back: requests counted by
//     other replicas between the read and the write are lost (the client
//     may get that many extra requests). A rollingwindow counter keeps
//     its remaining count in the current bucket, so it lasts up to one
//     more interval; a flexi counter starts a new window.
//   - <Class> inside <Identifier> is not supported (flowproc counts a
//     class-based Quota once per identifier): a load error.
func init() {
	engine.Register(engine.Kind{Type: "ResetQuota", Prefix: "resetquota", New: newResetQuota, Recyclable: true})
}

type resetTarget struct {
	quota    *quotaPolicy // static target (name=)
	quotaRef string       // dynamic target (ref=)
	idName   string
	idRef    string
	allow    quotaIntRef // the amount to subtract
	hasAllow bool        // false: forget the counter
}

type resetQuota struct {
	name    string
	targets []resetTarget
	// quotas are the bundle's Quota policies, for <Quota ref=>.
	quotas map[string]*quotaPolicy
}

func newResetQuota(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Quota")...)
	rq := &resetQuota{name: p.Name, quotas: map[string]*quotaPolicy{}}
	quiet := func(*bundle.Node, diag.Code, string, ...any) {}
	if c.Bundle != nil {
		for name, bp := range c.Bundle.Policies {
			if bp.Type == "Quota" {
				if q := parseQuota(c, bp, quiet, false); q != nil {
					rq.quotas[name] = q
				}
			}
		}
	}
	ok := true
	for _, qn := range root.Children {
		if qn.Name != "Quota" {
			continue
		}
		c.Unknown(qn, "Identifier")
		name, ref := strings.TrimSpace(quotaAttr(qn, "name")), strings.TrimSpace(quotaAttr(qn, "ref"))
		var static *quotaPolicy
		switch {
		case name == "" && ref == "":
			c.Errorf(qn, diag.APMissingElement, "ResetQuota %s: <Quota> needs name= or ref=", p.Name)
			ok = false
			continue
		case name != "" && ref != "":
			c.Errorf(qn, diag.APBadPolicy, "ResetQuota %s: <Quota> has both name= and ref=", p.Name)
			ok = false
			continue
		case name != "":
			static = rq.quotas[name]
			if static == nil && strings.Contains(name, ".") {
				// Edge's ResetQuota examples put a flow variable in
				// name= ("request.header.quotapolicy"): a name that is no
				// Quota of the bundle but looks like a variable is one.
				ref = name
				break
			}
			if static == nil {
				c.Errorf(qn, diag.APMissingPolicy, "Invalid rate limit policy %s (ResetQuota %s names no valid Quota policy of this bundle)", name, p.Name)
				ok = false
				continue
			}
		}
		ids := 0
		for _, in := range qn.Children {
			if in.Name != "Identifier" {
				continue
			}
			ids++
			c.Unknown(in, "Allow")
			t := resetTarget{quota: static, quotaRef: ref, idName: quotaAttr(in, "name"), idRef: strings.TrimSpace(quotaAttr(in, "ref"))}
			// Several <Allow> elements (Edge's sample has <Allow>100</Allow>
			// and <Allow ref=…/>) merge as one <Allow ref=…>100</Allow>:
			// the reference wins when it resolves.
			for _, a := range in.Children {
				if a.Name != "Allow" {
					continue
				}
				v := parseQuotaInt(a, "Allow", p.Name, func(n *bundle.Node, code diag.Code, f string, args ...any) {
					c.Errorf(n, code, f, args...)
					ok = false
				})
				if v.ref != "" {
					t.allow.ref = v.ref
				}
				if v.set {
					t.allow.val, t.allow.set = v.val, true
				}
				t.hasAllow = true
			}
			rq.targets = append(rq.targets, t)
		}
		if ids == 0 {
			c.Errorf(qn, diag.APMissingElement, "ResetQuota %s: <Quota> needs an <Identifier>", p.Name)
			ok = false
		}
	}
	if len(rq.targets) == 0 && ok {
		c.Errorf(root, diag.APMissingElement, "ResetQuota %s has no <Quota>", p.Name)
		ok = false
	}
	if !ok {
		return nil
	}
	return rq
}

// Execute lowers each named counter.
func (rq *resetQuota) Execute(r *engine.Run) error {
	st := r.State()
	if st == nil || st.Counter == nil {
		return errors.New("resetquota: no state store")
	}
	for _, t := range rq.targets {
		q := t.quota
		if q == nil {
			name, _ := r.Get(t.quotaRef)
			if q = rq.quotas[name]; q == nil {
				return &engine.Fault{Name: "InvalidRLPolicy", Code: "policies.resetquota.InvalidRLPolicy", Status: 500,
					Message: "Invalid rate limit policy " + name}
			}
		}
		id := t.idName
		if t.idRef != "" || id == "" {
			id = quotaIdentifier(r, t.idRef)
		}
		key := QuotaKey(r.ProxyName(), q.counterName, id)
		if err := rq.lower(r, st.Counter, q, t, key); err != nil {
			if errors.Is(err, store.ErrUnavailable) {
				return storeUnavailable(err)
			}
			return err
		}
	}
	return nil
}

// lower subtracts the target's Allow from the counter at key, or forgets
// it when there is no Allow.
func (rq *resetQuota) lower(r *engine.Run, c store.Counter, q *quotaPolicy, t resetTarget, key string) error {
	if !t.hasAllow {
		return c.Reset(r.Ctx(), key)
	}
	n, ok, err := resolveQuotaInt(r, t.allow)
	if err != nil {
		return fmt.Errorf("resetquota %s: %w", rq.name, err)
	}
	if !ok {
		return fmt.Errorf("resetquota %s: <Allow ref=%q> did not resolve", rq.name, t.allow.ref)
	}
	w, err := q.windowOf(r)
	if err != nil {
		return err
	}
	u, err := c.Get(r.Ctx(), key, w)
	if err != nil {
		return fmt.Errorf("resetquota %s: %w", rq.name, err)
	}
	left := u.Count - n
	if err := c.Reset(r.Ctx(), key); err != nil {
		return fmt.Errorf("resetquota %s: %w", rq.name, err)
	}
	if left > 0 {
		if _, err := c.Incr(r.Ctx(), key, left, w); err != nil {
			return fmt.Errorf("resetquota %s: %w", rq.name, err)
		}
	}
	r.Print(rq.name, "quota "+q.name+" identifier "+quotaKeyIdentifier(key)+" lowered by "+strconv.FormatInt(n, 10))
	return nil
}

// quotaKeyIdentifier is the identifier part of a QuotaKey.
func quotaKeyIdentifier(key string) string {
	return key[strings.LastIndexByte(key, 0)+1:]
}
