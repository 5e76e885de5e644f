package flat

import (
	"context"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
	"log/slog"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// <debug channel level in|xpath/> writes a message to the debug output
// (FLAT docs: debug): the value of in= (a location) or of the XPath
// expression xpath=, rendered as FLAT renders data. flowproc's debug output
// is the run's tracer (flowproc dev -trace, the trace API) and the server
// log at the action's level; exactly one of in and xpath is required.

func init() {
	registerAction("debug", &actionSpec{attrs: []string{"channel", "level", "in", "xpath"}, compile: compileDebug})
}

type debugAction struct {
	channel string
	level   slog.Level
	in      input
	xpath   *expr.Expr
}

// debugLevels maps FLAT's debug levels to log levels.
var debugLevels = map[string]slog.Level{
	"verbose": slog.LevelDebug - 4, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError, "alert": slog.LevelError + 4,
}

func compileDebug(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &debugAction{channel: "user", level: slog.LevelDebug}
	if ch, ok := e.Attr("channel"); ok && ch.Value != "" {
		a.channel = ch.Value
	}
	if l, ok := e.Attr("level"); ok {
		lv, known := debugLevels[strings.ToLower(l.Value)]
		if !known {
			c.errf(f, l.Line, l.Col, diag.BadAttribute, "level=%q: want verbose, debug, info, warning, error or alert", l.Value)
		}
		a.level = lv
	}
	_, hasIn := e.Attr("in")
	xp, hasXPath := e.Attr("xpath")
	switch {
	case hasIn && hasXPath:
		c.errf(f, e.Line, e.Col, diag.BadAttribute, "<debug> takes one of in= and xpath=, not both")
	case !hasIn && !hasXPath:
		c.errf(f, e.Line, e.Col, diag.MissingAttribute, "<debug> needs in= or xpath=")
	case hasIn:
		a.in = c.input(f, e)
	default:
		a.xpath = c.expr(f, xp.Value, xp.Line, xp.Col+len(xp.Name)+2)
	}
	return a
}

func (a *debugAction) Run(r *run, s *step) (ctrl, error) {
	log := r.p.logger()
	if r.x.Trace == nil && !log.Enabled(r.x.Ctx, a.level) {
		return ctrlNext, nil // nobody reads it: do not render
	}
	var v expr.Value
	if a.xpath != nil {
		var err error
		if v, err = a.xpath.Eval(r.exprCtx(nil)); err != nil {
			return ctrlNext, err
		}
	} else {
		switch a.in.kind {
		case inMain:
			v = string(r.x.Resp.Body)
		case inVar:
			v, _ = r.Var(a.in.name)
		case inFile:
			v = nodeSetOf(a.in.fixed)
		case inContent:
			b, _, _ := r.ContentBody(a.in.name)
			v = string(b)
		}
	}
	body, _ := renderValue(v)
	msg := string(body)
	r.x.TraceMessage(r.flowFile, "debug", s.At, msg)
	log.Log(context.WithoutCancel(r.x.Ctx), a.level, "flat_debug", "type", "flat_debug", "channel", a.channel,
		"requestID", r.x.ID, "at", s.At.String(), "message", msg)
	return ctrlNext, nil
}
