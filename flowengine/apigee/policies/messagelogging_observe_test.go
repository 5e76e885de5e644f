package policies

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// recObserver records what a run's observer gets.
type recObserver struct {
	msgs  []engine.MessageLogRecord
	stats []engine.StatisticRecord
}

func (o *recObserver) MessageLog(m engine.MessageLogRecord) { o.msgs = append(o.msgs, m) }
func (o *recObserver) Statistic(s engine.StatisticRecord)   { o.stats = append(o.stats, s) }

// TestMessageLoggingObserved: in a test run (an observer set) the message
// goes to the observer, with what the destination would have received,
// and nothing is sent.
func TestMessageLoggingObserved(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(MessageLogDirEnv, dir)
	tests := []struct {
		name    string
		src     string
		seg     engine.Segment
		to      string
		level   string
		message string
		sent    string // regexp on the whole bytes sent
	}{
		{
			name:    "udp, formatted: the RFC 5424 header is in what is sent, not in the message",
			src:     syslogPolicy("logs.invalid", 5514, "UDP", "<FormatMessage>true</FormatMessage>"),
			seg:     engine.ProxyRequest,
			to:      "syslog+udp://logs.invalid:5514",
			level:   "INFO",
			message: "GET v1",
			sent:    `^<14>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000 \S+ Apigee-Edge - - - GET v1$`,
		},
		{
			name:    "tcp adds the line end to what is sent, not to the message; WARNING is WARN",
			src:     `<MessageLogging name="ML"><Syslog><Message>{request.verb} {my.var}</Message><Host>logs.invalid</Host><Port>6514</Port><Protocol>TCP</Protocol></Syslog><logLevel>warning</logLevel></MessageLogging>`,
			seg:     engine.ProxyResponse,
			to:      "syslog+tcp://logs.invalid:6514",
			level:   "WARN",
			message: "GET v1",
			sent:    "^GET v1\n$",
		},
		{
			name:    "tls",
			src:     syslogPolicy("logs.invalid", 6515, "TCP", "<SSLInfo><Enabled>true</Enabled></SSLInfo>"),
			seg:     engine.ProxyRequest,
			to:      "syslog+tls://logs.invalid:6515",
			level:   "INFO",
			message: "GET v1",
			sent:    "^GET v1\n$",
		},
		{
			name:    "file in the PostClientFlow",
			src:     `<MessageLogging name="ML"><File><Message>{my.var} done</Message><FileName>observed.log</FileName></File><logLevel>DEBUG</logLevel></MessageLogging>`,
			seg:     engine.PostClient,
			to:      "file:observed.log",
			level:   "DEBUG",
			message: "v1 done",
			sent:    "^v1 done\n$",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := engine.TestPolicy(tt.src, nil, nil)
			if p == nil {
				t.Fatalf("compile: %v", errs)
			}
			r := engine.TestRun(context.Background(), tt.seg, "GET", "/orders", nil, nil)
			obs := &recObserver{}
			r.SetTestObserver(obs)
			if err := r.Set("my.var", "v1"); err != nil {
				t.Fatal(err)
			}
			if err := p.Execute(r); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			after := r.Exchange().Outcome("p", "f", "").After
			if tt.seg == engine.PostClient {
				// Already after the answer: delivered at once.
				if after != nil || len(obs.msgs) != 1 {
					t.Fatalf("PostClientFlow: %d messages during Execute, after hook %v", len(obs.msgs), after != nil)
				}
			} else {
				if len(obs.msgs) != 0 || after == nil {
					t.Fatalf("%d messages before the answer, after hook %v", len(obs.msgs), after != nil)
				}
				after(context.Background())
			}
			if len(obs.msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(obs.msgs))
			}
			m := obs.msgs[0]
			if m.Policy != "ML" || m.To != tt.to || m.Level != tt.level || m.Message != tt.message || m.Segment != tt.seg {
				t.Errorf("record = %+v", m)
			}
			if !regexp.MustCompile(tt.sent).Match(m.Sent) {
				t.Errorf("sent %q does not match %s", m.Sent, tt.sent)
			}
			if len(obs.stats) != 0 {
				t.Errorf("statistics: %v", obs.stats)
			}
		})
	}
	// Nothing went out: no syslog socket was opened, no file written.
	for _, k := range []struct {
		network string
		port    int
	}{{"udp", 5514}, {"tcp", 6514}} {
		s := syslogSinkFor(k.network, "logs.invalid", k.port, nil)
		s.mu.Lock()
		opened := s.udp != nil || len(s.idle) > 0
		s.mu.Unlock()
		if opened {
			t.Errorf("%s sink opened a connection in a test run", k.network)
		}
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("message log directory holds %v (%v), want nothing", ents, err)
	}
}
