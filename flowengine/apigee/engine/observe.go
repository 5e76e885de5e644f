package engine

import (
	"context"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// Observer receives, in a test run, what policies would otherwise send
// out of the process, so that a test can assert it: MessageLogging's
// messages (instead of writing them to syslog or a file) and
// StatisticsCollector's statistics (instead of recording Prometheus
// metrics). A run without an observer (every serving run) behaves as if
// this type did not exist. Calls come one at a time: during the run and,
// for messages delivered after the answer, while the outcome's After
// runs (in whichever goroutine calls it).
type Observer interface {
	// MessageLog receives one message at the moment it would be
	// delivered.
	MessageLog(MessageLogRecord)
	// Statistic receives one statistic a StatisticsCollector recorded.
	Statistic(StatisticRecord)
}

// MessageLogRecord is one MessageLogging message as it would be sent.
type MessageLogRecord struct {
	// Policy is the MessageLogging policy's name.
	Policy string
	// To is the destination: "syslog+udp://host:port",
	// "syslog+tcp://host:port", "syslog+tls://host:port" or
	// "file:<FileName>".
	To string
	// Level is the policy's logLevel (ALERT, ERROR, WARN, NOTICE, INFO or
	// DEBUG; INFO by default).
	Level string
	// Message is the rendered <Message> template (cut to the
	// destination's maximum size), without the syslog header or the
	// line end.
	Message string
	// Sent is every byte the destination would get: the RFC 5424 header
	// when FormatMessage is true, the message, and a line end for TCP
	// syslog and files.
	Sent []byte
	// Segment is where the policy ran (PostClient for the
	// PostClientFlow).
	Segment Segment
}

// StatisticRecord is one statistic a StatisticsCollector recorded.
type StatisticRecord struct {
	// Policy is the StatisticsCollector policy's name.
	Policy string
	// Name is the statistic's name attribute.
	Name string
	// Type is its type attribute in lower case (string, integer, long,
	// float, double, boolean).
	Type string
	// Value is the value recorded: the string as given, "true" or
	// "false", or the number in canonical form (" 12.50" is "12.5").
	Value string
}

// Observer is the run's observer, nil outside test runs.
func (r *Run) Observer() Observer { return r.obs }

// SetTestObserver gives a TestRun an observer.
func (r *Run) SetTestObserver(o Observer) { r.obs = o }

// RunObserved runs one exchange as RunForTest does, with obs receiving
// what the run's MessageLogging and StatisticsCollector policies would
// send (nothing leaves the process). Messages delivered after the answer
// reach obs while the outcome's After runs, so call After before reading
// what obs received.
func (p *Project) RunObserved(ctx context.Context, req *flowengine.Request, host flowengine.Host, obs Observer) (*flowengine.Outcome, func(name string) (string, bool)) {
	p.startMonitors()
	r := &Run{p: p, obs: obs}
	r.x.Start(ctx, req, host)
	r.budget.Reset(ctx, p.opts.Limits)
	r.x.Budget = &r.budget
	out := runtime.Guard(r.run, r.panicked)
	return out, r.Get
}
