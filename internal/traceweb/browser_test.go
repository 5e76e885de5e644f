package traceweb

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flowproc/flowproc/internal/chromium"
)

// sampleTrace is an exchange in the trace document's protojson form, with a
// path that would run script if the page ever used it as HTML.
const sampleTrace = `{"id":"req-1","project":"shop","kind":"apigee","start":"2026-12-05T22:00:00.000Z","durationUs":1500,
"method":"GET","authority":"api.example","path":"/v1/<img src=x onerror=window.pwned=1>","status":200,"outcome":"forward",
"phases":[{"phase":"request_headers","headers":[{"name":"authorization","value":"***"},{"name":"x-user","value":"ada"}]}],
"forward":{"setHeaders":[{"name":"x-shop","value":"1"}],"path":"/orders/42"},
"steps":[{"seq":1,"depth":0,"flow":"proxy default PreFlow","step":"AM-SetHeader","type":"AssignMessage","kind":"step","ran":true,"durationUs":40,"startOffsetUs":100,"vars":[{"name":"request.header.x-shop","value":"1"}]},
{"seq":2,"depth":0,"flow":"proxy default PreFlow","step":"RF-Deny","type":"RaiseFault","kind":"step","condition":"request.verb = \"POST\"","conditionResult":false,"ran":false}]}`

// text returns the text of the first element matching the CSS selector.
func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func TestPageShowsLiveExchangesInABrowser(t *testing.T) {
	ctx := chromium.Context(t, 60*time.Second)
	src := &chanSource{filters: make(chan Filter, 1), docs: make(chan []byte, 1)}
	srv := httptest.NewServer(Handler("/trace/", src))
	defer func() {
		srv.CloseClientConnections() // the page's EventSource would hold Close until the browser stops
		srv.Close()
	}()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/trace/"),
		chromedp.SetValue(chromedp.CSS(`input[name=project]`), "shop"),
		chromedp.Click(chromedp.CSS("#start")),
	); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-src.filters:
		if f.Project != "shop" {
			t.Fatalf("filter %+v", f)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the page did not open a trace session")
	}
	src.docs <- []byte(strings.ReplaceAll(sampleTrace, "\n", ""))

	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#exchanges tbody tr.exchange`)),
	); err != nil {
		t.Fatal(err)
	}
	row := text(ctx, t, `#exchanges tbody tr.exchange`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#exchanges tbody tr.exchange`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail`)),
	); err != nil {
		t.Fatal(err)
	}
	title := text(ctx, t, "#detail-title")
	steps := text(ctx, t, "#steps tbody")
	vars := text(ctx, t, "#steps tbody tr.step td.vars")
	forward := text(ctx, t, "#forward")
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pwned === 1`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shop", "GET", "/v1/<img", "200", "forward"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if !strings.Contains(title, "GET /v1/<img src=x") {
		t.Errorf("title %q", title)
	}
	for _, want := range []string{"AM-SetHeader", "AssignMessage", "ran", "RF-Deny", `request.verb = "POST" → false`, "skipped"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps %q lack %q", steps, want)
		}
	}
	if vars != "request.header.x-shop = 1" {
		t.Errorf("vars %q", vars)
	}
	if !strings.Contains(forward, "/orders/42") || !strings.Contains(forward, "x-shop") {
		t.Errorf("forward %q", forward)
	}
	if pwned {
		t.Error("a request path ran as HTML in the page")
	}
}

func TestPageImportsASavedSession(t *testing.T) {
	ctx := chromium.Context(t, 60*time.Second)
	srv := httptest.NewServer(Handler("/trace/", &chanSource{}))
	defer srv.Close()
	session := strings.ReplaceAll(sampleTrace, "\n", "") + "\n" +
		`{"id":"req-2","project":"hello","method":"POST","path":"/api/echo","status":502,"outcome":"error","error":"upstream unreachable"}` + "\n"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/trace/"),
		chromedp.WaitReady(chromedp.CSS(`#filter`)),
	); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.flowprocTrace.importText(`+jsString(session)+`); window.flowprocTrace.exchanges().length`))
	if err != nil {
		t.Fatal(err)
	}
	state := text(ctx, t, "#state")
	rows := text(ctx, t, "#exchanges tbody")
	if n != 2 || !strings.Contains(state, "2 imported") {
		t.Errorf("imported %d, state %q", n, state)
	}
	if !strings.Contains(rows, "/api/echo") || !strings.Contains(rows, "502") {
		t.Errorf("rows %q", rows)
	}
}

// jsString quotes s as a JavaScript template literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}
