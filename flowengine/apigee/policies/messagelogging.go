package policies

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// MessageLogging (Apigee docs: MessageLogging) sends a message template to syslog or
// appends it to a local file:
//
//	<MessageLogging name="ML">
//	  <Syslog>
//	    <Message>[{organization.name}] {request.verb} {response.status.code}</Message>
//	    <Host>logs.example.com</Host><Port>514</Port><Protocol>TCP</Protocol>
//	    <FormatMessage>true</FormatMessage>
//	    <DateFormat>yyyy-MM-dd'T'HH:mm:ss.SSSZ</DateFormat>
//	    <SSLInfo><Enabled>true</Enabled></SSLInfo>
//	  </Syslog>
//	  <!-- or (Edge for Private Cloud) -->
//	  <File><Message>…</Message><FileName>api.log</FileName>
//	    <FileRotationOptions rotateFileOnStartup="true">
//	      <FileRotationType>SIZE</FileRotationType><MaxFileSizeInMB>10</MaxFileSizeInMB>
//	      <MaxFilesToRetain>5</MaxFilesToRetain>
//	    </FileRotationOptions></File>
//	  <logLevel>INFO</logLevel>
//	</MessageLogging>
//
// The message renders when the policy runs (so it sees the variables of
// that moment); the send happens after the answer went to the client (at
// once when the policy runs in the PostClientFlow), bounded by
// MessageLogTimeout, so logging never delays or changes the response.
// Apigee's docs recommend the PostClientFlow for the same reason (the
// "MessageLogging in PostClientFlow" antipattern page) and its syslog
// delivery is asynchronous [mem]; X's error reference lists
// steps.messagelogging.StepDefinitionExecutionFailed, which flowproc never
// raises: a template or delivery failure is logged with slog, not a fault.
//
// <CloudLogging> (Apigee X) is refused at load (AP401): flowproc has no
// Google Cloud Logging client. <SSLInfo> supports <Enabled> and
// <IgnoreValidationErrors> only (system roots); key stores, trust stores
// and client certificates are refused. Files go to the directory named by
// the FLOWPROC_MESSAGELOG_DIR environment variable (default
// $TMPDIR/flowproc-messagelog); FileName may not contain a path.
func init() {
	engine.Register(engine.Kind{Type: "MessageLogging", Prefix: "messagelogging", New: newMessageLogging})
}

// MessageLogTimeout bounds one delivery (dial and write).
var MessageLogTimeout = 5 * time.Second

// MessageLogDirEnv is the environment variable naming the directory of
// <File> logs.
const MessageLogDirEnv = "FLOWPROC_MESSAGELOG_DIR"

// Maximum rendered message sizes: a UDP datagram's payload, and for
// streams and files a bound that keeps one message from filling a disk.
const (
	maxUDPMessage    = 65000
	maxStreamMessage = 1 << 20
)

// sink is a log destination shared by every policy naming it.
type sink interface {
	send(ctx context.Context, msg []byte, rot *rotation) error
	String() string
}

type messageLogging struct {
	name     string
	msg      *msgtemplate.Template
	sink     sink
	rot      *rotation // File only
	max      int
	format   bool   // Syslog FormatMessage
	dateFmt  string // "" = Apigee's default
	severity int
	level    string // logLevel's canonical name, for test observers
	dest     string // destination as a test observer sees it
	hostname string
	stream   bool // append a newline (TCP syslog, files)
}

// Syslog severities of logLevel (RFC 5424 §6.2.1); the facility is user
// (1), as Apigee's documented "<14>" (user.info) header shows.
var logLevels = map[string]int{"ALERT": 1, "ERROR": 3, "WARN": 4, "WARNING": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7}

// levelNames are the canonical logLevel names by severity.
var levelNames = map[int]string{1: "ALERT", 3: "ERROR", 4: "WARN", 5: "NOTICE", 6: "INFO", 7: "DEBUG"}

const defaultDateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"

func newMessageLogging(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, "DisplayName", "Description", "Properties", "Syslog", "File", "CloudLogging", "logLevel")
	ml := &messageLogging{name: p.Name, severity: 6, level: "INFO"}
	if lv := root.Child("logLevel"); lv != nil {
		sev, ok := logLevels[strings.ToUpper(lv.Text)]
		if !ok {
			c.Errorf(lv, diag.APBadPolicy, "logLevel %q: want ALERT, ERROR, WARN, NOTICE, INFO or DEBUG", lv.Text)
		}
		ml.severity, ml.level = sev, levelNames[sev]
	}
	sys, file, cloud := root.Child("Syslog"), root.Child("File"), root.Child("CloudLogging")
	if cloud != nil {
		c.Errorf(cloud, diag.APBadPolicy, "<CloudLogging> (Apigee X Cloud Logging) is not supported by flowproc; log to <Syslog> instead")
		return nil
	}
	switch {
	case sys != nil && file != nil:
		c.Errorf(file, diag.APBadPolicy, "MessageLogging %s has both <Syslog> and <File>; use two policies", p.Name)
		return nil
	case sys != nil:
		if !ml.compileSyslog(c, p, sys) {
			return nil
		}
	case file != nil:
		if !ml.compileFile(c, p, file) {
			return nil
		}
	default:
		c.Errorf(root, diag.APMissingElement, "MessageLogging %s has no <Syslog> or <File>", p.Name)
		return nil
	}
	return ml
}

// message compiles the <Message> child of n.
func (ml *messageLogging) message(c *engine.Compiler, n *bundle.Node) bool {
	m := n.Child("Message")
	if m == nil {
		c.Errorf(n, diag.APMissingElement, "<%s> has no <Message>", n.Name)
		return false
	}
	// Message is mixed content in Apigee (the docs' samples are plain
	// text); Text is the trimmed character data.
	if len(m.Children) > 0 {
		c.Errorf(m.Children[0], diag.APUnknownElement, "unknown element <%s> in <Message>", m.Children[0].Name)
		return false
	}
	ml.msg = c.Template(m, m.Text)
	return ml.msg != nil
}

func (ml *messageLogging) compileSyslog(c *engine.Compiler, p *bundle.Policy, n *bundle.Node) bool {
	c.Unknown(n, "Message", "Host", "Port", "Protocol", "FormatMessage", "DateFormat", "SSLInfo")
	ok := ml.message(c, n)
	host := ""
	if h := n.Child("Host"); h == nil || h.Text == "" {
		c.Errorf(n, diag.APMissingElement, "<Syslog> has no <Host>")
		ok = false
	} else if host = h.Text; strings.ContainsAny(host, "/ {}") {
		c.Errorf(h, diag.APBadPolicy, "Host %q is not a host name", host)
		ok = false
	}
	port := 514
	if pn := n.Child("Port"); pn != nil {
		v, err := strconv.Atoi(pn.Text)
		if err != nil || v < 1 || v > 65535 {
			// Apigee: InvalidPort at deployment.
			c.Errorf(pn, diag.APBadPolicy, "Invalid Port %q for Syslog handler in policy %s", pn.Text, p.Name)
			ok = false
		}
		port = v
	}
	network := "udp"
	if pr := n.Child("Protocol"); pr != nil {
		switch strings.ToUpper(pr.Text) {
		case "UDP":
		case "TCP":
			network = "tcp"
		default:
			// Apigee: InvalidProtocol at deployment.
			c.Errorf(pr, diag.APBadPolicy, "Invalid Protocol: %s for Syslog handler in policy %s (want TCP or UDP)", pr.Text, p.Name)
			ok = false
		}
	}
	if fm := n.Child("FormatMessage"); fm != nil {
		ml.format = c.Bool(fm, fm.Text, false)
	}
	if df := n.Child("DateFormat"); df != nil {
		if df.Text == "" {
			c.Errorf(df, diag.APBadPolicy, "<DateFormat> is empty")
			ok = false
		} else if df.Text != defaultDateFormat {
			if _, _, err := dateTemplate.String(flowvar.Map{"f": df.Text, "t": "0"}); err != nil {
				c.Errorf(df, diag.APBadPolicy, "DateFormat %q: %v", df.Text, err)
				ok = false
			}
			ml.dateFmt = df.Text
		}
	}
	var tlsConf *tls.Config
	if si := n.Child("SSLInfo"); si != nil {
		c.Unknown(si, "Enabled", "IgnoreValidationErrors")
		enabled, ignore := false, false
		if e := si.Child("Enabled"); e != nil {
			enabled = c.Bool(e, e.Text, false)
		}
		if iv := si.Child("IgnoreValidationErrors"); iv != nil {
			ignore = c.Bool(iv, iv.Text, false)
		}
		if enabled {
			if network != "tcp" {
				c.Errorf(si, diag.APBadPolicy, "syslog over TLS needs <Protocol>TCP</Protocol>")
				ok = false
			}
			tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: ignore} //nolint:gosec // the bundle asks for it
		}
	}
	if !ok {
		return false
	}
	ml.hostname, _ = os.Hostname()
	if ml.hostname == "" {
		ml.hostname = "-"
	}
	ml.max = maxUDPMessage
	if network == "tcp" {
		ml.max, ml.stream = maxStreamMessage, true
	}
	ml.sink = syslogSinkFor(network, host, port, tlsConf)
	ml.dest = ml.sink.String()
	return true
}

// dateTemplate formats a timestamp with a SimpleDateFormat pattern held in
// variable f (no quoting issues with ':' or quotes in the pattern).
var dateTemplate = msgtemplate.MustParse("{timeFormatUTCMs(f,t)}")

// header is Apigee's FormatMessage prefix, an RFC 5424 header:
// "<PRI>1 TIMESTAMP HOSTNAME Apigee-Edge - - - " (the docs' example:
// "<14>1 2016-02-23T09:24:39.039+0000 e49cd3a9-… Apigee-Edge - - - Message").
func (ml *messageLogging) header(dst []byte, now time.Time) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(8+ml.severity), 10)
	dst = append(dst, ">1 "...)
	if ml.dateFmt == "" {
		dst = now.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000-0700")
	} else {
		s, _, err := dateTemplate.String(flowvar.Map{"f": ml.dateFmt, "t": strconv.FormatInt(now.UnixMilli(), 10)})
		if err != nil || s == "" {
			s = "-"
		}
		dst = append(dst, s...)
	}
	dst = append(dst, ' ')
	dst = append(dst, ml.hostname...)
	return append(dst, " Apigee-Edge - - - "...)
}

// Execute renders the message and schedules its delivery; it never fails
// the flow.
func (ml *messageLogging) Execute(r *engine.Run) error {
	var buf []byte
	if ml.format {
		buf = ml.header(buf, time.Now())
	}
	start := len(buf)
	buf, _, err := ml.msg.Append(buf, r)
	if err != nil {
		slog.Warn("MessageLogging: message template failed; nothing logged", "policy", ml.name, "error", err)
		return nil
	}
	if len(buf) > ml.max {
		buf = buf[:ml.max]
	}
	end := len(buf)
	if ml.stream && (len(buf) == start || buf[len(buf)-1] != '\n') {
		buf = append(buf, '\n')
	}
	if obs := r.Observer(); obs != nil {
		// A test run: the observer gets the message where the sink would.
		r.AfterResponse(ml.observe(obs, r.Segment(), buf, start, end))
		return nil
	}
	send := func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, MessageLogTimeout)
		defer cancel()
		if err := ml.sink.send(ctx, buf, ml.rot); err != nil {
			slog.Warn("MessageLogging: delivery failed", "policy", ml.name, "destination", ml.sink.String(), "error", err)
		}
	}
	if r.Segment() == engine.PostClient {
		// Already after the answer: deliver now.
		send(r.Ctx())
		return nil
	}
	r.AfterResponse(send)
	return nil
}
