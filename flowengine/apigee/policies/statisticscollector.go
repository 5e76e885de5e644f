package policies

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// StatisticsCollector (Edge; Apigee docs: StatisticsCollector) feeds custom analytics
// dimensions:
//
//	<StatisticsCollector name="SC"><Statistics>
//	  <Statistic name="dim" ref="flow.var" type="string">default</Statistic>
//	</Statistics></StatisticsCollector>
//
// flowproc has no analytics store; statistics become Prometheus metrics
// (see StatisticsMetrics): string and boolean statistics count values in
// flowproc_apigee_statistic_total{proxy,policy,statistic,value}, numeric
// ones are observed in the histogram
// flowproc_apigee_statistic_value{proxy,policy,statistic}. The value
// label is bounded: after MaxStatisticValues distinct values of one
// statistic, further values count as "other".
//
// Apigee's docs (Statistics Collector deployment errors) list the types
// string, integer, float, long, double and boolean (case-insensitive
// here); any other type fails the load (UnsupportedDatatype) and so does a
// missing one (DatatypeMissing). A ref that does not resolve takes the
// element's text as the value; with no text the statistic is not recorded.
// The policy never faults at run time: a value that does not parse as its
// numeric type is logged and skipped.
func init() {
	engine.Register(engine.Kind{Type: "StatisticsCollector", Prefix: "statisticscollector", New: newStatisticsCollector, Recyclable: true})
}

// MaxStatisticValues bounds the distinct value labels of one string or
// boolean statistic (per proxy and policy); later values are "other".
const MaxStatisticValues = 100

// OtherStatisticValue is the value label for values beyond
// MaxStatisticValues.
const OtherStatisticValue = "other"

var (
	statCounter = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowproc_apigee_statistic_total",
		Help: "Values of Apigee StatisticsCollector string and boolean statistics, by proxy, policy, statistic and value (at most 100 values per statistic, then \"other\").",
	}, []string{"proxy", "policy", "statistic", "value"})
	statValue = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                        "flowproc_apigee_statistic_value",
		Help:                        "Values of Apigee StatisticsCollector numeric statistics, by proxy, policy and statistic.",
		Buckets:                     []float64{0, 1, 5, 10, 50, 100, 500, 1e3, 5e3, 1e4, 1e5, 1e6, 1e7, 1e9},
		NativeHistogramBucketFactor: 1.1,
	}, []string{"proxy", "policy", "statistic"})
)

// StatisticsMetrics returns the collectors StatisticsCollector policies
// record into, for a server to expose on its registry.
func StatisticsMetrics() []prometheus.Collector {
	return []prometheus.Collector{statCounter, statValue}
}

// RegisterStatisticsMetrics registers StatisticsMetrics on reg; registering
// them again on the same registry is not an error.
func RegisterStatisticsMetrics(reg prometheus.Registerer) error {
	for _, c := range StatisticsMetrics() {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue
			}
			return err
		}
	}
	return nil
}

type statKind int

const (
	statString statKind = iota
	statBool
	statInt
	statFloat
)

type statistic struct {
	name, ref, def string
	kind           statKind
	typ            string
}

type statisticsCollector struct {
	policy string
	stats  []statistic
	// values bounds the value labels: one set per proxy and statistic.
	values *valueSets
}

func newStatisticsCollector(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, "DisplayName", "Description", "Properties", "Statistics")
	sc := &statisticsCollector{policy: p.Name, values: sharedValueSets}
	stats := root.Child("Statistics")
	if stats == nil {
		c.Errorf(root, diag.APMissingElement, "StatisticsCollector %s has no <Statistics>", p.Name)
		return nil
	}
	c.Unknown(stats, "Statistic")
	seen := map[string]bool{}
	n := 0
	for _, s := range stats.Children {
		if s.Name != "Statistic" {
			continue
		}
		n++
		st := statistic{def: s.Text}
		st.name, _ = s.Attr("name")
		st.ref, _ = s.Attr("ref")
		typ, hasType := s.Attr("type")
		switch {
		case st.name == "":
			c.Errorf(s, diag.APMissingElement, "<Statistic> has no name attribute")
			continue
		case seen[st.name]:
			c.Errorf(s, diag.APBadPolicy, "statistic %q is collected twice", st.name)
			continue
		case st.ref == "" && st.def == "":
			c.Errorf(s, diag.APMissingElement, "statistic %q has neither a ref nor a default value", st.name)
			continue
		case !hasType || typ == "":
			c.Errorf(s, diag.APMissingElement, "statistic %q has no type (DatatypeMissing; want string, integer, float, long, double or boolean)", st.name)
			continue
		case len(s.Children) > 0:
			c.Errorf(s.Children[0], diag.APUnknownElement, "unknown element <%s> in <Statistic>", s.Children[0].Name)
			continue
		}
		seen[st.name] = true
		st.typ = strings.ToLower(typ)
		switch st.typ {
		case "string":
			st.kind = statString
		case "boolean":
			st.kind = statBool
		case "integer", "long":
			st.kind = statInt
		case "float", "double":
			st.kind = statFloat
		default:
			c.Errorf(s, diag.APBadPolicy, "statistic %q: unsupported datatype %q (UnsupportedDatatype; want string, integer, float, long, double or boolean)", st.name, typ)
			continue
		}
		if st.def != "" {
			if _, ok := st.parse(st.def); !ok {
				c.Errorf(s, diag.APBadPolicy, "statistic %q: default %q is not a %s", st.name, st.def, st.typ)
				continue
			}
		}
		sc.stats = append(sc.stats, st)
	}
	if n == 0 {
		c.Errorf(stats, diag.APMissingElement, "StatisticsCollector %s collects no <Statistic>", p.Name)
		return nil
	}
	return sc
}

// parse returns the label value (string, boolean) or the number
// (numeric) of s, and whether s is of the statistic's type.
func (st *statistic) parse(s string) (any, bool) {
	switch st.kind {
	case statBool:
		switch strings.ToLower(s) {
		case "true":
			return "true", true
		case "false":
			return "false", true
		}
		return nil, false
	case statInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || st.typ == "integer" && (n > 1<<31-1 || n < -1<<31) {
			return nil, false
		}
		return float64(n), true
	case statFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, false
		}
		return f, true
	}
	return s, true
}

// Execute records each statistic; it never fails the flow.
func (sc *statisticsCollector) Execute(r *engine.Run) error {
	proxy, _ := r.Get("apiproxy.name")
	obs := r.Observer()
	for i := range sc.stats {
		st := &sc.stats[i]
		raw, ok := "", false
		if st.ref != "" {
			raw, ok = r.Get(st.ref)
		}
		if !ok || raw == "" {
			raw, ok = st.def, st.def != ""
		}
		if !ok {
			continue
		}
		v, ok := st.parse(raw)
		if !ok {
			slog.Debug("StatisticsCollector: value does not fit the statistic's type; not recorded",
				"policy", sc.policy, "statistic", st.name, "type", st.typ, "value", truncate(raw, 64))
			continue
		}
		if obs != nil {
			// A test run: the observer gets the statistic, not the metrics.
			obs.Statistic(st.record(sc.policy, v))
			continue
		}
		switch x := v.(type) {
		case float64:
			statValue.WithLabelValues(proxy, sc.policy, st.name).Observe(x)
		case string:
			sc.values.counter(proxy, sc.policy, st.name, x).Inc()
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// valueSets remembers, per proxy/policy/statistic, the value labels in
// use, so that no statistic has more than MaxStatisticValues of them.
// The set is process-wide: a reloaded project keeps counting into the
// same series.
type valueSets struct {
	mu   sync.Mutex
	sets map[[3]string]map[string]prometheus.Counter
}

var sharedValueSets = &valueSets{sets: map[[3]string]map[string]prometheus.Counter{}}

func (vs *valueSets) counter(proxy, policy, stat, value string) prometheus.Counter {
	key := [3]string{proxy, policy, stat}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	set := vs.sets[key]
	if set == nil {
		set = map[string]prometheus.Counter{}
		vs.sets[key] = set
	}
	if c, ok := set[value]; ok {
		return c
	}
	if len(set) >= MaxStatisticValues {
		value = OtherStatisticValue
		if c, ok := set[value]; ok {
			return c
		}
	}
	c := statCounter.WithLabelValues(proxy, policy, stat, value)
	set[value] = c
	return c
}
