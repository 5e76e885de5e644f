package flowtest

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// TestBundleObserved: expect.messagelog and expect.statistics pass on
// what the run's MessageLogging and StatisticsCollector policies did,
// PostClientFlow included.
func TestBundleObserved(t *testing.T) {
	var out strings.Builder
	results, err := Run(context.Background(), Options{Dir: "testdata/apigee-observe", Out: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if len(results) != 2 || Failed(results) {
		t.Fatalf("want 2 passing tests:\n%s", out.String())
	}
	// 1 status + messagelog (1 count + 2 messages) + 2 statistics.
	if !strings.Contains(out.String(), "ok 1 messages and statistics (tests/observe.yaml): 6 assertions\n") {
		t.Errorf("TAP:\n%s", out.String())
	}
}

// TestBundleObservedFail: deliberately wrong expectations fail, each
// with a message that names what differs.
func TestBundleObservedFail(t *testing.T) {
	var out strings.Builder
	results, err := Run(context.Background(), Options{Dir: "testdata/apigee-observe", Files: []string{"testdata/apigee-observe-failing.yaml"}, Out: &out, Verbose: true})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if len(results) != 4 {
		t.Fatalf("got %d results, want 4:\n%s", len(results), out.String())
	}
	want := map[string][]string{
		"wrong message fields": {
			"messagelog[0] (ML-Req): policy: got ML-Req, want ML-Other",
			"to: got syslog+udp://logs.invalid:514, want syslog+tcp://logs.invalid:514",
			"level: got WARN, want DEBUG",
			`message: got "GET /log color=red", want "GET /log color=blue"`,
			`message: "blue" not found in "GET /log color=red"`,
			`message: "GET /log color=red" does not match /^POST/`,
			`Apigee-Edge - - - GET /log color=red" does not match /^<14>/`,
			"post_client_flow: the policy ran before the answer, want it in the PostClientFlow",
			"messagelog[1] (ML-Post): post_client_flow: the policy ran in the PostClientFlow, want it before the answer",
		},
		"a message too few": {
			`messagelog: got 2 messages, want 3: [ML-Req → syslog+udp://logs.invalid:514 "GET /log color=", ML-Post → file:observe.log "done 200"]`,
			"messagelog[2]: no such message, want one from ML-Post",
		},
		"no messages expected": {
			`messagelog: got 1 message, want 0: [ML-Post → file:observe.log "done 200"]`,
		},
		"wrong statistics": {
			`statistic color: got "red", want "blue"`,
			`statistic n: not recorded, want "3" (recorded: color="red" (SC-Req))`,
			`statistic other: not recorded, want "1"`,
		},
	}
	for _, r := range results {
		if r.OK() {
			t.Errorf("%s passed", r.Name)
			continue
		}
		all := strings.Join(r.Failures, "\n")
		ws, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected test %q", r.Name)
		}
		for _, w := range ws {
			if !strings.Contains(all, w) {
				t.Errorf("%s: failures lack %q:\n%s", r.Name, w, all)
			}
		}
		if strings.Contains(all, "never") {
			t.Errorf("%s: the statistic expected unrecorded (and unrecorded) failed:\n%s", r.Name, all)
		}
	}
}

func TestParseMessageLogErrors(t *testing.T) {
	head := "tests:\n  - name: a\n    request: {path: /}\n    expect:\n      "
	cases := []struct{ name, src, want string }{
		{"empty entry", head + "messagelog: [{}]\n", "expect.messagelog[0] checks nothing"},
		{"null entry", head + "messagelog: [null]\n", "expect.messagelog[0] is empty"},
		{"unknown key", head + "messagelog: [{policy: ML, mesage: x}]\n", "mesage"},
		{"bad level", head + "messagelog: [{level: LOUD}]\n", `expect.messagelog[0].level "LOUD"`},
		{"bad message regexp", head + "messagelog: [{message_matches: '('}]\n", "expect.messagelog[0].message_matches: error parsing regexp"},
		{"bad sent regexp", head + "messagelog: [{policy: ML}, {sent_matches: 'a**'}]\n", "expect.messagelog[1].sent_matches: error parsing regexp"},
		{"statistics not a map", head + "statistics: [a]\n", "yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBundleTests([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// An empty list and a statistics map are checks of their own.
	for _, src := range []string{head + "messagelog: []\n", head + "statistics: {dim: null}\n"} {
		f, err := ParseBundleTests([]byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if n := f.Tests[0].Expect.count(); n != 1 {
			t.Errorf("%q counts %d assertions, want 1", src, n)
		}
	}
}

// TestCheckObservedNilEntry: an expectation list built by hand with a
// hole fails that entry instead of panicking.
func TestCheckObservedNilEntry(t *testing.T) {
	res := &Result{}
	c := &checker{res: res, at: "x.yaml:1"}
	obs := &observed{}
	obs.MessageLog(engine.MessageLogRecord{Policy: "ML", To: "file:a.log", Message: "m"})
	c.checkObserved(&Expectations{MessageLog: &[]*MessageLogExpect{nil}}, obs)
	if res.Assertions != 2 || len(res.Failures) != 1 || !strings.Contains(res.Failures[0], "messagelog[0]: an empty expectation") {
		t.Errorf("assertions %d, failures %q", res.Assertions, res.Failures)
	}
}
