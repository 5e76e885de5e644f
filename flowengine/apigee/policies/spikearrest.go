package policies

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// SpikeArrest (Apigee docs: SpikeArrest) protects against traffic spikes:
//
//	<SpikeArrest name="SA"><Rate ref="var">30ps</Rate><Identifier ref="client_id"/>
//	  <MessageWeight ref="request.header.weight"/><UseEffectiveCount>false</UseEffectiveCount></SpikeArrest>
//
// Semantics relied on (Apigee SpikeArrest policy page; flowproc choices
// marked):
//   - Without UseEffectiveCount (the default) the rate is smoothed: "10pm"
//     allows one request every 6 s, "5ps" one every 200 ms, with no burst.
//     This is the state store's RateLimiter (GCRA) per proxy, policy and
//     identifier. A message of weight w needs w emission intervals: it
//     passes only when the previous traffic has drained (flowproc models
//     the weight as a burst of w, so a heavy message is never refused
//     for ever).
//   - UseEffectiveCount true counts requests in a sliding window of one
//     second (ps) or one minute (pm) without smoothing: "10pm" allows any
//     10 requests in the last minute (store Counter, rollingwindow).
//   - <Rate ref> wins over the text when it resolves; a rate that does not
//     resolve is FailedToResolveSpikeArrestRate, one that does not parse
//     InvalidAllowedRate (500).
//   - SpikeArrestViolation is status 429 with Apigee X's faultstring
//     "Spike arrest violation. Allowed rate : MessageRate{capacity=10,
//     period=Minutes}" (Seconds for ps).
//   - The state store unreachable fails closed (StoreUnavailable, 503)
//     unless <Property name="flowproc.failOpen">true</Property>, as for
//     Quota.
func init() {
	engine.Register(engine.Kind{Type: "SpikeArrest", Prefix: "ratelimit", New: newSpikeArrest, Recyclable: true})
}

type spikeArrest struct {
	name      string
	rateRef   string
	rateText  string
	rate      store.Rate // parsed rateText (Count 0: none)
	identRef  string
	weightRef string
	effective bool
	failOpen  bool
}

func newSpikeArrest(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Rate", "Identifier", "MessageWeight", "UseEffectiveCount")...)
	s := &spikeArrest{name: p.Name}
	ok := true
	rate := root.Child("Rate")
	if rate == nil {
		c.Errorf(root, diag.APMissingElement, "SpikeArrest %s has no <Rate>", p.Name)
		return nil
	}
	s.rateRef, s.rateText = strings.TrimSpace(quotaAttr(rate, "ref")), strings.TrimSpace(rate.Text)
	if s.rateText != "" {
		r, err := store.ParseRate(s.rateText)
		if err != nil {
			c.Errorf(rate, diag.APBadPolicy, "Invalid spike arrest rate %s in SpikeArrest policy %s", s.rateText, p.Name)
			ok = false
		}
		s.rate = r
	}
	if s.rateRef == "" && s.rateText == "" {
		c.Errorf(rate, diag.APMissingElement, "SpikeArrest %s: <Rate> needs a value or ref=", p.Name)
		ok = false
	}
	if n := root.Child("Identifier"); n != nil {
		if s.identRef = strings.TrimSpace(quotaAttr(n, "ref")); s.identRef == "" {
			c.Errorf(n, diag.APMissingElement, "SpikeArrest %s: <Identifier> needs ref=", p.Name)
			ok = false
		}
	}
	if n := root.Child("MessageWeight"); n != nil {
		if s.weightRef = strings.TrimSpace(quotaAttr(n, "ref")); s.weightRef == "" {
			c.Errorf(n, diag.APMissingElement, "SpikeArrest %s: <MessageWeight> needs ref=", p.Name)
			ok = false
		}
	}
	if n := root.Child("UseEffectiveCount"); n != nil {
		s.effective = c.Bool(n, n.Text, false)
	}
	s.failOpen = policyProperty(root, failOpenProperty) == "true"
	if !ok {
		return nil
	}
	return s
}

// SpikeKey is the state key of a SpikeArrest policy for identifier in
// proxy.
func SpikeKey(proxy, policy, identifier string) string {
	return "spike\x00" + proxy + "\x00" + policy + "\x00" + identifier
}

// rateOf resolves the policy's rate for r.
func (s *spikeArrest) rateOf(r *engine.Run) (store.Rate, string, error) {
	text := s.rateText
	if s.rateRef != "" {
		if v, ok := r.Get(s.rateRef); ok && strings.TrimSpace(v) != "" {
			text = strings.TrimSpace(v)
		} else if text == "" {
			return store.Rate{}, "", quotaFault("FailedToResolveSpikeArrestRate", 500,
				"Unable to resolve rate reference %s in SpikeArrest policy %s", s.rateRef, s.name)
		}
	}
	if text == s.rateText && s.rate.Count > 0 {
		return s.rate, text, nil
	}
	rt, err := store.ParseRate(text)
	if err != nil {
		return store.Rate{}, "", quotaFault("InvalidAllowedRate", 500, "Invalid spike arrest rate %s in SpikeArrest policy %s", text, s.name)
	}
	return rt, text, nil
}

// Execute admits the request or raises SpikeArrestViolation.
func (s *spikeArrest) Execute(r *engine.Run) error {
	rate, _, err := s.rateOf(r)
	if err != nil {
		return err
	}
	weight, err := messageWeight(r, s.weightRef)
	if err != nil {
		return err
	}
	st := r.State()
	if st == nil || st.Rate == nil || st.Counter == nil {
		return errors.New("spikearrest: no state store")
	}
	key := SpikeKey(r.ProxyName(), s.name, quotaIdentifier(r, s.identRef))
	allowedNow := false
	if s.effective {
		unit := store.Second
		if rate.Per == time.Minute {
			unit = store.Minute
		}
		var u store.Usage
		u, err = st.Counter.Take(r.Ctx(), key, weight, rate.Count, store.Window{Kind: store.Rolling, Interval: 1, Unit: unit})
		allowedNow = u.Allowed
	} else {
		if weight > 1_000_000 {
			return quotaFault("InvalidMessageWeight", 500, "Invalid message weight value %d", weight)
		}
		rate.Burst = weight
		var d store.Decision
		d, err = st.Rate.TryAcquire(r.Ctx(), key, weight, rate)
		allowedNow = d.Allowed
	}
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			if s.failOpen {
				r.Print(s.name, "state store unavailable; failing open: "+err.Error())
				return r.Set("ratelimit."+s.name+".store.unavailable", true)
			}
			return storeUnavailable(err)
		}
		return fmt.Errorf("spikearrest %s: %w", s.name, err)
	}
	if !allowedNow {
		period := "Seconds"
		if rate.Per == time.Minute {
			period = "Minutes"
		}
		return quotaFault("SpikeArrestViolation", 429, "Spike arrest violation. Allowed rate : MessageRate{capacity=%d, period=%s}", rate.Count, period)
	}
	return nil
}
