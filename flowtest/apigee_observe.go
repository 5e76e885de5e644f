package flowtest

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// MessageLogExpect is one MessageLogging message a test expects (an
// entry of expect.messagelog). Every set field must match; at least one
// is set.
type MessageLogExpect struct {
	// Policy is the MessageLogging policy's name.
	Policy string `yaml:"policy"`
	// To is the destination: "syslog+udp://host:port",
	// "syslog+tcp://host:port", "syslog+tls://host:port" or
	// "file:<FileName>".
	To string `yaml:"to"`
	// Level is the policy's logLevel: ALERT, ERROR, WARN (WARNING),
	// NOTICE, INFO or DEBUG.
	Level string `yaml:"level"`
	// Message is the exact rendered <Message>, without the syslog header
	// or line end.
	Message *string `yaml:"message"`
	// MessageContains are substrings of the rendered message.
	MessageContains []string `yaml:"message_contains"`
	// MessageMatches is a regular expression (Go RE2 syntax, unanchored:
	// use ^ and $ for the whole message) the rendered message matches.
	MessageMatches string `yaml:"message_matches"`
	// SentMatches is a regular expression the bytes the destination gets
	// match: the RFC 5424 header when FormatMessage is true, the message,
	// and "\n" for TCP syslog and files.
	SentMatches string `yaml:"sent_matches"`
	// PostClientFlow: true means the policy ran in the PostClientFlow,
	// false that it ran before the answer.
	PostClientFlow *bool `yaml:"post_client_flow"`

	messageRE, sentRE *regexp.Regexp
}

// validate checks the entry and compiles its regular expressions.
func (m *MessageLogExpect) validate(where string) error {
	if m == nil {
		return fmt.Errorf("%s is empty", where)
	}
	var errs []error
	if m.Policy == "" && m.To == "" && m.Level == "" && m.Message == nil && len(m.MessageContains) == 0 &&
		m.MessageMatches == "" && m.SentMatches == "" && m.PostClientFlow == nil {
		errs = append(errs, fmt.Errorf("%s checks nothing", where))
	}
	if m.Level != "" {
		lv := strings.ToUpper(m.Level)
		if lv == "WARNING" {
			lv = "WARN"
		}
		switch lv {
		case "ALERT", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG":
			m.Level = lv
		default:
			errs = append(errs, fmt.Errorf("%s.level %q: want ALERT, ERROR, WARN, NOTICE, INFO or DEBUG", where, m.Level))
		}
	}
	var err error
	if m.MessageMatches != "" {
		if m.messageRE, err = regexp.Compile(m.MessageMatches); err != nil {
			errs = append(errs, fmt.Errorf("%s.message_matches: %w", where, err))
		}
	}
	if m.SentMatches != "" {
		if m.sentRE, err = regexp.Compile(m.SentMatches); err != nil {
			errs = append(errs, fmt.Errorf("%s.sent_matches: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

// observed is the engine.Observer of one bundle test: it keeps the
// messages and statistics the run's policies would have sent.
type observed struct {
	mu    sync.Mutex
	msgs  []engine.MessageLogRecord
	stats []engine.StatisticRecord
}

// MessageLog implements engine.Observer.
func (o *observed) MessageLog(m engine.MessageLogRecord) {
	o.mu.Lock()
	o.msgs = append(o.msgs, m)
	o.mu.Unlock()
}

// Statistic implements engine.Observer.
func (o *observed) Statistic(s engine.StatisticRecord) {
	o.mu.Lock()
	o.stats = append(o.stats, s)
	o.mu.Unlock()
}

// checkObserved evaluates expect.messagelog and expect.statistics.
func (c *checker) checkObserved(e *Expectations, o *observed) {
	o.mu.Lock()
	msgs := append([]engine.MessageLogRecord(nil), o.msgs...)
	stats := append([]engine.StatisticRecord(nil), o.stats...)
	o.mu.Unlock()
	if e.MessageLog != nil {
		want := *e.MessageLog
		c.assert(len(msgs) == len(want), "messagelog: got %s, want %d: %s", plural(len(msgs), "message"), len(want), messageList(msgs))
		for i, w := range want {
			where := fmt.Sprintf("messagelog[%d]", i)
			if w == nil { // ParseBundleTests refuses it; a hand-built test may not
				c.assert(false, "%s: an empty expectation", where)
				continue
			}
			if i >= len(msgs) {
				c.assert(false, "%s: no such message, want %s", where, w.describe())
				continue
			}
			diffs := w.diff(&msgs[i])
			c.assert(len(diffs) == 0, "%s (%s): %s", where, msgs[i].Policy, strings.Join(diffs, "; "))
		}
	}
	// The value a statistic last recorded counts (one analytics record
	// per exchange).
	last := map[string]string{}
	for _, s := range stats {
		last[s.Name] = s.Value
	}
	names := make([]string, 0, len(e.Statistics))
	for n := range e.Statistics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := e.Statistics[n]
		got, ok := last[n]
		switch {
		case want == nil:
			c.assert(!ok, "statistic %s: got %q, want it not recorded", n, got)
		case !ok:
			c.assert(false, "statistic %s: not recorded, want %q (recorded: %s)", n, *want, statList(stats))
		default:
			c.assert(got == *want, "statistic %s: got %q, want %q", n, got, *want)
		}
	}
}

// diff lists the fields of m that do not match w.
func (w *MessageLogExpect) diff(m *engine.MessageLogRecord) []string {
	var d []string
	if w.Policy != "" && m.Policy != w.Policy {
		d = append(d, fmt.Sprintf("policy: got %s, want %s", m.Policy, w.Policy))
	}
	if w.To != "" && m.To != w.To {
		d = append(d, fmt.Sprintf("to: got %s, want %s", m.To, w.To))
	}
	if w.Level != "" && m.Level != w.Level {
		d = append(d, fmt.Sprintf("level: got %s, want %s", m.Level, w.Level))
	}
	if w.Message != nil && m.Message != *w.Message {
		d = append(d, fmt.Sprintf("message: got %s, want %s", quoteBody([]byte(m.Message)), quoteBody([]byte(*w.Message))))
	}
	for _, sub := range w.MessageContains {
		if !strings.Contains(m.Message, sub) {
			d = append(d, fmt.Sprintf("message: %q not found in %s", sub, quoteBody([]byte(m.Message))))
		}
	}
	if w.messageRE != nil && !w.messageRE.MatchString(m.Message) {
		d = append(d, fmt.Sprintf("message: %s does not match /%s/", quoteBody([]byte(m.Message)), w.MessageMatches))
	}
	if w.sentRE != nil && !w.sentRE.Match(m.Sent) {
		d = append(d, fmt.Sprintf("sent: %s does not match /%s/", quoteBody(m.Sent), w.SentMatches))
	}
	if w.PostClientFlow != nil && (m.Segment == engine.PostClient) != *w.PostClientFlow {
		if *w.PostClientFlow {
			d = append(d, "post_client_flow: the policy ran before the answer, want it in the PostClientFlow")
		} else {
			d = append(d, "post_client_flow: the policy ran in the PostClientFlow, want it before the answer")
		}
	}
	return d
}

// describe names an expected message in a failure.
func (w *MessageLogExpect) describe() string {
	var parts []string
	if w.Policy != "" {
		parts = append(parts, "from "+w.Policy)
	}
	if w.To != "" {
		parts = append(parts, "to "+w.To)
	}
	if w.Message != nil {
		parts = append(parts, fmt.Sprintf("%q", *w.Message))
	}
	if len(parts) == 0 {
		return "one more message"
	}
	return "one " + strings.Join(parts, " ")
}

// messageList shows the messages a run delivered in a failure.
func messageList(msgs []engine.MessageLogRecord) string {
	if len(msgs) == 0 {
		return "none"
	}
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = fmt.Sprintf("%s → %s %s", m.Policy, m.To, quoteBody([]byte(m.Message)))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// statList shows the statistics a run recorded in a failure.
func statList(stats []engine.StatisticRecord) string {
	if len(stats) == 0 {
		return "none"
	}
	parts := make([]string, len(stats))
	for i, s := range stats {
		parts[i] = fmt.Sprintf("%s=%q (%s)", s.Name, s.Value, s.Policy)
	}
	return strings.Join(parts, ", ")
}
