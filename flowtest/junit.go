package flowtest

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

// JUnit XML, the schema CI systems (Jenkins, GitLab, GitHub reporters)
// read: one testsuite, one testcase per test file.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// junitReport builds the report of results.
func junitReport(results []*Result) junitSuites {
	s := junitSuite{Name: "flowproc test", Tests: len(results)}
	var total float64
	for _, r := range results {
		c := junitCase{Name: r.File, ClassName: "flat", Time: fmt.Sprintf("%.3f", r.Duration.Seconds()), SystemOut: r.Trace}
		if r.Name != "" {
			c.Name, c.ClassName = r.File+": "+r.Name, "apigee"
		}
		total += r.Duration.Seconds()
		switch {
		case r.Err != nil:
			s.Errors++
			c.Error = &junitProblem{Message: r.Err.Error(), Text: strings.Join(r.Failures, "\n")}
		case len(r.Failures) > 0:
			s.Failures++
			c.Failure = &junitProblem{Message: fmt.Sprintf("%d of %s failed", len(r.Failures), plural(r.Assertions, "assertion")), Text: strings.Join(r.Failures, "\n")}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = fmt.Sprintf("%.3f", total)
	return junitSuites{Suites: []junitSuite{s}}
}

func writeJUnitFile(path string, results []*Result) error {
	b, err := xml.MarshalIndent(junitReport(results), "", "  ")
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}
