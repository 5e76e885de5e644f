package extproc

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"
)

// The flat_access record's custom fields without encoding/json.
//
// A flow's <log> fields reach the server as the JSON object of
// Outcome.Log, almost always flat: a few string, number, boolean or null
// members (the example project's init flow logs two strings on every
// exchange). Decoding that into a map[string]any with encoding/json cost
// about 14 allocations and a reflection walk per logged exchange.
// scanLogFields reads exactly that common shape directly; anything else
// (nested values, escapes, duplicate keys, invalid JSON) makes it give up,
// and appendLogFields then takes the encoding/json path, so the record is
// the same either way (FuzzLogFieldsFastPath checks it).

// logField is one member of a flat Outcome.Log object.
type logField struct {
	key  string
	kind byte   // 's' string, 'n' number, 't' true, 'f' false, '0' null
	text string // the string's value or the number's literal
}

// maxFastLogFields bounds the members scanLogFields keeps on the stack.
const maxFastLogFields = 16

// scanLogFields parses fields when it is a JSON object whose members are
// all scalars, their keys and strings free of escapes and valid UTF-8, and
// no key repeated; it returns the members sorted by key. ok is false for
// anything else, including JSON that is not valid.
func scanLogFields(fields []byte, buf []logField) (out []logField, ok bool) {
	s := string(fields) // one copy: the attributes keep substrings of it
	i := skipJSONSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(s, i+1)
	out = buf[:0]
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			var f logField
			if f.key, i, ok = scanPlainString(s, i); !ok {
				return nil, false
			}
			i = skipJSONSpace(s, i)
			if i >= len(s) || s[i] != ':' {
				return nil, false
			}
			i = skipJSONSpace(s, i+1)
			if i >= len(s) {
				return nil, false
			}
			switch c := s[i]; {
			case c == '"':
				f.kind = 's'
				if f.text, i, ok = scanPlainString(s, i); !ok {
					return nil, false
				}
			case c == '-' || c >= '0' && c <= '9':
				f.kind = 'n'
				end, ok := scanJSONNumber(s, i)
				if !ok {
					return nil, false
				}
				f.text, i = s[i:end], end
			case strings.HasPrefix(s[i:], "true"):
				f.kind, i = 't', i+4
			case strings.HasPrefix(s[i:], "false"):
				f.kind, i = 'f', i+5
			case strings.HasPrefix(s[i:], "null"):
				f.kind, i = '0', i+4
			default:
				return nil, false // objects, arrays, invalid JSON
			}
			out = append(out, f)
			i = skipJSONSpace(s, i)
			if i >= len(s) {
				return nil, false
			}
			if s[i] == '}' {
				i++
				break
			}
			if s[i] != ',' {
				return nil, false
			}
			i = skipJSONSpace(s, i+1)
		}
	}
	if skipJSONSpace(s, i) != len(s) {
		return nil, false
	}
	slices.SortFunc(out, func(a, b logField) int { return strings.Compare(a.key, b.key) })
	for j := 1; j < len(out); j++ {
		if out[j].key == out[j-1].key {
			return nil, false // encoding/json keeps the last; leave that to it
		}
	}
	return out, true
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanPlainString reads the JSON string starting at s[i] (a quote) when it
// holds no escape and no control character and is valid UTF-8; end is the
// index after the closing quote.
func scanPlainString(s string, i int) (v string, end int, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	ascii := true
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v = s[i+1 : j]
			if !ascii && !utf8.ValidString(v) {
				return "", i, false // encoding/json substitutes U+FFFD
			}
			return v, j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", i, false
}

// scanJSONNumber returns the end of the JSON number starting at s[i].
func scanJSONNumber(s string, i int) (end int, ok bool) {
	if s[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}

// attr is f as customAttr makes it from the value encoding/json decodes.
func (f *logField) attr(name string) (slog.Attr, int) {
	switch f.kind {
	case 's':
		return stringAttr(name, f.text)
	case 'n':
		return numberAttr(name, f.text)
	case 't':
		return scalarAttr(name, true)
	case 'f':
		return scalarAttr(name, false)
	}
	return scalarAttr(name, nil)
}

// numberAttr is customAttr for a json.Number.
func numberAttr(name, literal string) (slog.Attr, int) {
	name = truncate(name, LogKeyLimit)
	s := truncate(literal, LogFieldLimit)
	return slog.Any(name, json.Number(s)), len(name) + len(s)
}

// stringAttr is customAttr for a string.
func stringAttr(name, v string) (slog.Attr, int) {
	name = truncate(name, LogKeyLimit)
	v = truncate(v, LogFieldLimit)
	return slog.String(name, v), len(name) + len(v)
}

// scalarAttr is customAttr for a boolean or null.
func scalarAttr(name string, v any) (slog.Attr, int) {
	name = truncate(name, LogKeyLimit)
	return slog.Any(name, v), len(name) + 5
}
