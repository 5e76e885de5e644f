package policies

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// mlRun compiles src, runs it on a fresh TestRun in seg after setting
// vars, and returns the run's post-response hook (nil when none was
// registered).
func mlRun(t *testing.T, src string, seg engine.Segment, vars map[string]string) (after func(context.Context), r *engine.Run) {
	t.Helper()
	p, errs := engine.TestPolicy(src, nil, nil)
	if p == nil {
		t.Fatalf("compile: %v", errs)
	}
	r = engine.TestRun(context.Background(), seg, "GET", "/orders?id=7", nil, nil)
	for k, v := range vars {
		if err := r.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	o := r.Exchange().Outcome("p", "f", "")
	return o.After, r
}

func syslogPolicy(host string, port int, proto, extra string) string {
	return `<MessageLogging name="ML"><Syslog><Message>{request.verb} {my.var}</Message><Host>` + host + `</Host><Port>` + strconv.Itoa(port) +
		`</Port><Protocol>` + proto + `</Protocol>` + extra + `</Syslog></MessageLogging>`
}

// mlCaptureLog sends slog's default logger to a buffer for the test.
func mlCaptureLog(t *testing.T) *mlSyncBuffer {
	t.Helper()
	buf := &mlSyncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

type mlSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *mlSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *mlSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestMessageLoggingUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	read := func(wait time.Duration) (string, bool) {
		buf := make([]byte, 70000)
		_ = pc.SetReadDeadline(time.Now().Add(wait))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return "", false
		}
		return string(buf[:n]), true
	}
	tests := []struct {
		name  string
		extra string
		level string
		want  string // regexp
	}{
		{name: "raw message", want: `^GET before$`},
		{name: "Apigee's RFC 5424 header", extra: `<FormatMessage>true</FormatMessage>`, level: "ALERT",
			want: `^<9>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000 \S+ Apigee-Edge - - - GET before$`},
		{name: "default level is INFO (user.info = 14)", extra: `<FormatMessage>true</FormatMessage>`, want: `^<14>1 \S+ \S+ Apigee-Edge - - - GET before$`},
		{name: "DateFormat", extra: `<FormatMessage>true</FormatMessage><DateFormat>yyyy-MM-dd HH:mm</DateFormat>`, level: "debug",
			want: `^<15>1 \d{4}-\d\d-\d\d \d\d:\d\d \S+ Apigee-Edge - - - GET before$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := syslogPolicy("127.0.0.1", port, "UDP", tc.extra)
			if tc.level != "" {
				src = strings.Replace(src, "</MessageLogging>", "<logLevel>"+tc.level+"</logLevel></MessageLogging>", 1)
			}
			after, r := mlRun(t, src, engine.ProxyRequest, map[string]string{"my.var": "before"})
			// The message was rendered when the policy ran.
			_ = r.Set("my.var", "after")
			if after == nil {
				t.Fatal("no post-response hook")
			}
			if got, ok := read(50 * time.Millisecond); ok {
				t.Fatalf("sent before the response: %q", got)
			}
			after(context.Background())
			got, ok := read(2 * time.Second)
			if !ok {
				t.Fatal("nothing received")
			}
			if !regexp.MustCompile(tc.want).MatchString(got) {
				t.Errorf("got %q, want %s", got, tc.want)
			}
		})
	}
	t.Run("long messages are cut to one datagram", func(t *testing.T) {
		after, _ := mlRun(t, syslogPolicy("127.0.0.1", port, "UDP", ""), engine.ProxyRequest, map[string]string{"my.var": strings.Repeat("x", 100000)})
		after(context.Background())
		got, ok := read(2 * time.Second)
		if !ok || len(got) != maxUDPMessage {
			t.Errorf("received %d bytes (ok %v), want %d", len(got), ok, maxUDPMessage)
		}
	})
}

// mlTCPServer is a syslog TCP server collecting lines and counting
// connections.
type mlTCPServer struct {
	ln    net.Listener
	lines chan string
	mu    sync.Mutex
	conns int
}

func newMLTCPServer(t *testing.T, ln net.Listener) *mlTCPServer {
	s := &mlTCPServer{ln: ln, lines: make(chan string, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					s.lines <- sc.Text()
				}
			}()
		}
	}()
	return s
}

func (s *mlTCPServer) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-s.lines:
		return l
	case <-time.After(3 * time.Second):
		t.Fatal("no line received")
		return ""
	}
}

func TestMessageLoggingTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newMLTCPServer(t, ln)
	port := ln.Addr().(*net.TCPAddr).Port
	src := syslogPolicy("127.0.0.1", port, "TCP", "<FormatMessage>false</FormatMessage>")
	for i := range 3 {
		after, _ := mlRun(t, src, engine.ProxyResponse, map[string]string{"my.var": "n" + strconv.Itoa(i)})
		after(context.Background())
		if got := srv.next(t); got != "GET n"+strconv.Itoa(i) {
			t.Errorf("line %d = %q", i, got)
		}
	}
	srv.mu.Lock()
	conns := srv.conns
	srv.mu.Unlock()
	if conns != 1 {
		t.Errorf("%d connections for 3 messages, want 1 (pooled)", conns)
	}

	t.Run("in the PostClientFlow the message goes at once", func(t *testing.T) {
		after, _ := mlRun(t, src, engine.PostClient, map[string]string{"my.var": "pcf"})
		if got := srv.next(t); got != "GET pcf" {
			t.Errorf("line = %q", got)
		}
		if after != nil {
			t.Error("a post-response hook was registered in the PostClientFlow")
		}
	})

	if err := syslogSinkFor("tcp", "127.0.0.1", port, nil).closeIdle(); err != nil {
		t.Error(err)
	}
}

func TestMessageLoggingServerClosedPooledConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// One line per connection, then the server hangs up.
			l, _ := bufio.NewReader(c).ReadString('\n')
			lines <- l
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	src := syslogPolicy("127.0.0.1", port, "TCP", "")
	for _, v := range []string{"first", "second"} {
		after, _ := mlRun(t, src, engine.ProxyRequest, map[string]string{"my.var": v})
		after(context.Background())
		select {
		case l := <-lines:
			if l != "GET "+v+"\n" {
				t.Errorf("line %q", l)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s: nothing received (written into the closed pooled connection?)", v)
		}
		time.Sleep(20 * time.Millisecond) // let the server's FIN arrive
	}
	if err := syslogSinkFor("tcp", "127.0.0.1", port, nil).closeIdle(); err != nil {
		t.Error(err)
	}
}

func TestMessageLoggingFailureIsNotAFault(t *testing.T) {
	logs := mlCaptureLog(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	after, _ := mlRun(t, syslogPolicy("127.0.0.1", port, "TCP", ""), engine.ProxyRequest, map[string]string{"my.var": "x"})
	start := time.Now()
	after(context.Background())
	if d := time.Since(start); d > MessageLogTimeout+time.Second {
		t.Errorf("delivery took %v", d)
	}
	if !strings.Contains(logs.String(), "MessageLogging: delivery failed") || !strings.Contains(logs.String(), "policy=ML") {
		t.Errorf("failure not logged: %q", logs.String())
	}
}

func TestMessageLoggingTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "syslog.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newMLTCPServer(t, ln)
	port := ln.Addr().(*net.TCPAddr).Port

	t.Run("IgnoreValidationErrors", func(t *testing.T) {
		src := syslogPolicy("127.0.0.1", port, "TCP", "<SSLInfo><Enabled>true</Enabled><IgnoreValidationErrors>true</IgnoreValidationErrors></SSLInfo>")
		after, _ := mlRun(t, src, engine.ProxyRequest, map[string]string{"my.var": "secret"})
		after(context.Background())
		if got := srv.next(t); got != "GET secret" {
			t.Errorf("line = %q", got)
		}
	})
	t.Run("an untrusted certificate is refused", func(t *testing.T) {
		logs := mlCaptureLog(t)
		src := syslogPolicy("127.0.0.1", port, "TCP", "<SSLInfo><Enabled>true</Enabled></SSLInfo>")
		after, _ := mlRun(t, src, engine.ProxyRequest, map[string]string{"my.var": "secret"})
		after(context.Background())
		if !strings.Contains(logs.String(), "delivery failed") {
			t.Errorf("no failure logged: %q", logs.String())
		}
	})
}

func TestMessageLoggingFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(MessageLogDirEnv, dir)
	policy := func(file, rot string) string {
		return `<MessageLogging name="MLF"><File><Message>{my.var}</Message><FileName>` + file + `</FileName>` + rot + `</File></MessageLogging>`
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	t.Run("append", func(t *testing.T) {
		for _, v := range []string{"one", "two"} {
			after, _ := mlRun(t, policy("a.log", ""), engine.ProxyRequest, map[string]string{"my.var": v})
			after(context.Background())
		}
		if got := read("a.log"); got != "one\ntwo\n" {
			t.Errorf("a.log = %q", got)
		}
	})
	t.Run("size rotation", func(t *testing.T) {
		big := strings.Repeat("x", 700<<10)
		rot := `<FileRotationOptions><FileRotationType>SIZE</FileRotationType><MaxFileSizeInMB>1</MaxFileSizeInMB><MaxFilesToRetain>1</MaxFilesToRetain></FileRotationOptions>`
		for _, v := range []string{"1" + big, "2" + big, "3" + big} {
			after, _ := mlRun(t, policy("b.log", rot), engine.ProxyRequest, map[string]string{"my.var": v})
			after(context.Background())
		}
		if got := read("b.log"); !strings.HasPrefix(got, "3x") || len(got) != len(big)+2 {
			t.Errorf("b.log starts %.3q, %d bytes", got, len(got))
		}
		if got := read("b.log.1"); !strings.HasPrefix(got, "2x") {
			t.Errorf("b.log.1 starts %.3q", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "b.log.2")); err == nil {
			t.Error("b.log.2 kept beyond MaxFilesToRetain")
		}
	})
	t.Run("rotateFileOnStartup", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "c.log"), []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		after, _ := mlRun(t, policy("c.log", `<FileRotationOptions rotateFileOnStartup="true"/>`), engine.ProxyRequest, map[string]string{"my.var": "new"})
		after(context.Background())
		if got := read("c.log"); got != "new\n" {
			t.Errorf("c.log = %q", got)
		}
		if got := read("c.log.1"); got != "old\n" {
			t.Errorf("c.log.1 = %q", got)
		}
	})
	t.Run("time rotation", func(t *testing.T) {
		rot := `<FileRotationOptions><FileRotationType>TIME</FileRotationType><RotationFrequency unit="minute">1</RotationFrequency></FileRotationOptions>`
		after, _ := mlRun(t, policy("d.log", rot), engine.ProxyRequest, map[string]string{"my.var": "first"})
		after(context.Background())
		s := fileSinkFor(filepath.Join(dir, "d.log"))
		s.mu.Lock()
		s.opened = s.opened.Add(-2 * time.Minute)
		s.mu.Unlock()
		after, _ = mlRun(t, policy("d.log", rot), engine.ProxyRequest, map[string]string{"my.var": "second"})
		after(context.Background())
		if got := read("d.log"); got != "second\n" {
			t.Errorf("d.log = %q", got)
		}
		if got := read("d.log.1"); got != "first\n" {
			t.Errorf("d.log.1 = %q", got)
		}
	})
	for _, name := range []string{"a.log", "b.log", "c.log", "d.log"} {
		if err := fileSinkFor(filepath.Join(dir, name)).closeFile(); err != nil {
			t.Error(err)
		}
	}
}

func TestMessageLoggingErrors(t *testing.T) {
	sys := func(inner string) string {
		return `<MessageLogging name="ML"><Syslog>` + inner + `</Syslog></MessageLogging>`
	}
	const ok = `<Message>m</Message><Host>h</Host>`
	tests := []struct {
		name string
		src  string
		want []diag.Code
	}{
		{"CloudLogging", `<MessageLogging name="ML"><CloudLogging><LogName>x</LogName><Message>m</Message></CloudLogging></MessageLogging>`, []diag.Code{diag.APBadPolicy}},
		{"no destination", `<MessageLogging name="ML"><logLevel>INFO</logLevel></MessageLogging>`, []diag.Code{diag.APMissingElement}},
		{"Syslog and File", `<MessageLogging name="ML"><Syslog>` + ok + `</Syslog><File><Message>m</Message><FileName>f</FileName></File></MessageLogging>`, []diag.Code{diag.APBadPolicy}},
		{"no Host", sys(`<Message>m</Message>`), []diag.Code{diag.APMissingElement}},
		{"no Message", sys(`<Host>h</Host>`), []diag.Code{diag.APMissingElement}},
		{"bad template", sys(`<Message>{nope(</Message><Host>h</Host>`), []diag.Code{diag.APTemplateSyntax}},
		{"invalid protocol", sys(ok + `<Protocol>HTTP</Protocol>`), []diag.Code{diag.APBadPolicy}},
		{"invalid port", sys(ok + `<Port>70000</Port>`), []diag.Code{diag.APBadPolicy}},
		{"TLS over UDP", sys(ok + `<SSLInfo><Enabled>true</Enabled></SSLInfo>`), []diag.Code{diag.APBadPolicy}},
		{"trust stores", sys(ok + `<Protocol>TCP</Protocol><SSLInfo><Enabled>true</Enabled><TrustStore>ts</TrustStore></SSLInfo>`), []diag.Code{diag.APUnknownElement}},
		{"bad FormatMessage", sys(ok + `<FormatMessage>yes</FormatMessage>`), []diag.Code{diag.APBadPolicy}},
		{"bad DateFormat", sys(ok + `<DateFormat>yyyy-bb</DateFormat>`), []diag.Code{diag.APBadPolicy}},
		{"bad logLevel", `<MessageLogging name="ML"><Syslog>` + ok + `</Syslog><logLevel>LOUD</logLevel></MessageLogging>`, []diag.Code{diag.APBadPolicy}},
		{"unknown element", sys(ok + `<PayloadOnly>true</PayloadOnly>`), []diag.Code{diag.APUnknownElement}},
		{"FileName with a path", `<MessageLogging name="ML"><File><Message>m</Message><FileName>../etc/x</FileName></File></MessageLogging>`, []diag.Code{diag.APBadPolicy}},
		{"no FileName", `<MessageLogging name="ML"><File><Message>m</Message></File></MessageLogging>`, []diag.Code{diag.APMissingElement}},
		{"bad rotation", `<MessageLogging name="ML"><File><Message>m</Message><FileName>f</FileName><FileRotationOptions>` +
			`<FileRotationType>DAILY</FileRotationType><MaxFileSizeInMB>0</MaxFileSizeInMB><MaxFilesToRetain>-1</MaxFilesToRetain><RotationFrequency unit="week">1</RotationFrequency></FileRotationOptions></File></MessageLogging>`,
			[]diag.Code{diag.APBadPolicy, diag.APBadPolicy, diag.APBadPolicy, diag.APBadPolicy}},
		{"TIME without frequency", `<MessageLogging name="ML"><File><Message>m</Message><FileName>f</FileName><FileRotationOptions><FileRotationType>TIME</FileRotationType></FileRotationOptions></File></MessageLogging>`,
			[]diag.Code{diag.APMissingElement}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := engine.TestPolicy(tc.src, nil, nil)
			if p != nil {
				t.Fatal("compiled")
			}
			var codes []diag.Code
			for _, e := range errs {
				codes = append(codes, e.Code)
			}
			if !calloutSameCodes(codes, tc.want) {
				t.Errorf("errors %v, want %v", errs, tc.want)
			}
		})
	}
}

// TestMessageLoggingInABundle runs MessageLogging in a proxy's request
// flow that then faults, and in its PostClientFlow: both messages go out
// after the answer, in that order, with the variables of the moment each
// policy ran.
func TestMessageLoggingInABundle(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	ml := func(name, msg string) string {
		return `<MessageLogging name="` + name + `"><Syslog><Message>` + msg + `</Message><Host>127.0.0.1</Host><Port>` + port + `</Port></Syslog></MessageLogging>`
	}
	files := map[string]string{
		"apiproxy/p.xml": `<APIProxy name="p"/>`,
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>Log-Request</Name></Step><Step><Name>Raise</Name></Step></Request></PreFlow>
  <PostClientFlow name="PostClientFlow"><Response><Step><Name>Log-After</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"apiproxy/policies/Log-Request.xml": ml("Log-Request", "request {request.verb} {fault.name}"),
		"apiproxy/policies/Log-After.xml":   ml("Log-After", "after {response.status.code} {fault.name}"),
		"apiproxy/policies/Raise.xml":       `<TestCalloutRaiseFault name="Raise"/>`,
	}
	p, errs := calloutLoad(t, calloutProject(t, files), nil)
	if p == nil {
		t.Fatalf("load: %v", errs)
	}
	o := calloutGet(t, p, "/v1/x")
	if o.Status != 418 || o.After == nil {
		t.Fatalf("status %d, after hook %v", o.Status, o.After != nil)
	}
	_ = pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := pc.ReadFrom(buf); err == nil {
		t.Fatalf("sent before the answer: %q", buf[:n])
	}
	o.After(context.Background())
	for _, want := range []string{"request GET ", "after 418 Boom"} {
		_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if got := string(buf[:n]); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
