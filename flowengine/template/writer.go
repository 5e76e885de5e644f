package template

import (
	"bytes"
	"math"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// writer writes template output and owns comma placement.
//
// Every comma, whether the author wrote it in the skeleton, asked for it with
// {{,}}, or a loop or pair producer generated it, becomes a *pending* comma.
// A pending comma is written only when the next significant output starts a
// value or a key, and only if the last significant output was not "{", "[",
// ":" or "," (nor the start of the output). Before "}", "]", ":" or the end of
// the output it is dropped. Whitespace at the end of literal text and after
// a pending comma is held back until the next significant output, so that a
// comma lands right after the value it follows and literal formatting
// survives. Text inside JSON string literals of the
// skeleton is copied untouched.
type writer struct {
	b        *bytes.Buffer
	ws       []byte // whitespace held back until the next significant output
	pending  bool   // a comma is pending
	last     byte   // last significant byte written; 0 at the start
	inString bool   // inside a JSON string literal of the skeleton
	esc      bool   // inside a string, right after a backslash
}

func (w *writer) reset(b *bytes.Buffer) {
	w.b = b
	w.ws = w.ws[:0]
	w.pending, w.last, w.inString, w.esc = false, 0, false, false
}

// comma makes a comma pending.
func (w *writer) comma() { w.pending = true }

// beginValue is called before a value or key is written: it resolves a
// pending comma.
func (w *writer) beginValue() {
	if w.pending {
		w.pending = false
		switch w.last {
		case 0, '{', '[', ':', ',':
		default:
			w.b.WriteByte(',')
		}
	}
	w.flushWS()
}

// flushWS writes held-back whitespace.
func (w *writer) flushWS() {
	if len(w.ws) > 0 {
		w.b.Write(w.ws)
		w.ws = w.ws[:0]
	}
}

// finish ends the output: a pending comma is dropped.
func (w *writer) finish() {
	w.pending = false
	w.flushWS()
}

// text copies literal skeleton text, applying the comma rules.
func (w *writer) text(s string) {
	i := 0
	for i < len(s) {
		if w.inString {
			j := i
			for j < len(s) {
				c := s[j]
				j++
				if w.esc {
					w.esc = false
				} else if c == '\\' {
					w.esc = true
				} else if c == '"' {
					w.inString = false
					w.last = '"'
					break
				}
			}
			w.b.WriteString(s[i:j])
			i = j
			continue
		}
		if w.pending {
			c := s[i]
			i++
			switch c {
			case ' ', '\t', '\n', '\r':
				w.ws = append(w.ws, c)
			case ',':
				// merges with the pending one
			case '}', ']', ':':
				w.pending = false
				w.flushWS()
				w.b.WriteByte(c)
				w.last = c
			default:
				w.beginValue()
				w.b.WriteByte(c)
				w.last = c
				w.inString = c == '"'
			}
			continue
		}
		// Fast path: copy up to the next comma or quote, holding back
		// trailing whitespace (a comma may have to go before it).
		j := i
		for j < len(s) && s[j] != ',' && s[j] != '"' {
			j++
		}
		k := j
		for k > i && isSpace(s[k-1]) {
			k--
		}
		if k > i {
			w.flushWS()
			w.b.WriteString(s[i:k])
			w.last = s[k-1]
		}
		w.ws = append(w.ws, s[k:j]...)
		if j < len(s) {
			if s[j] == ',' {
				w.pending = true
			} else {
				w.flushWS()
				w.b.WriteByte('"')
				w.inString = true
				w.last = '"'
			}
			j++
		}
		i = j
	}
}

// null writes a JSON null value.
func (w *writer) null() {
	w.beginValue()
	w.b.WriteString("null")
	w.last = 'l'
}

// bool writes a JSON boolean value.
func (w *writer) bool(v bool) {
	w.beginValue()
	if v {
		w.b.WriteString("true")
	} else {
		w.b.WriteString("false")
	}
	w.last = 'e'
}

// scalar writes a JSON scalar an expr.ScalarScope gave: a string quoted,
// a number's and a boolean's text as they are.
func (w *writer) scalar(v expr.ScalarValue) {
	switch v.Type {
	case oxn.String:
		w.string(v.Text)
	case oxn.Boolean:
		w.bool(v.Text == "true")
	default:
		w.beginValue()
		w.b.WriteString(v.Text)
		w.last = '0'
	}
}

// number writes a JSON number; NaN and infinities become null.
func (w *writer) number(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.null()
		return
	}
	w.beginValue()
	w.b.Write(appendNumber(w.b.AvailableBuffer(), f))
	w.last = '0'
}

// appendNumber formats f the way encoding/json does (shortest
// representation, exponent only for very large or small magnitudes); -0 is
// written as 0.
func appendNumber(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	abs := math.Abs(f)
	if abs < 1e-6 || abs >= 1e21 {
		n := len(b)
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// "1e-07" -> "1e-7"
		if m := len(b) - n; m >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// string writes s as a JSON string value.
func (w *writer) string(s string) {
	w.beginValue()
	oxn.WriteString(w.b, s)
	w.last = '"'
}

// key writes `"name":` for a member produced by a pair producer.
func (w *writer) key(name string) {
	w.beginValue()
	oxn.WriteString(w.b, name)
	w.b.WriteByte(':')
	w.last = ':'
}
