package extproc

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// Log line size limits (docs/server.md, "Logs"): a flat_access record stays
// a few KiB whatever the request or the flow puts in it.
const (
	// LogFieldLimit is the most bytes of url, path and each custom field
	// value a flat_access record carries. A longer value is cut at a UTF-8
	// boundary and ends in "…[truncated N bytes]", N being its full length.
	LogFieldLimit = 2048
	// LogKeyLimit is the most bytes of a custom field's name.
	LogKeyLimit = 128
	// LogCustomLimit is the most bytes all custom fields of one record
	// carry together; the fields past it are left out and counted in
	// log_dropped_fields.
	LogCustomLimit = 8 * LogFieldLimit
)

// truncate cuts s to limit bytes (at a rune boundary) with the truncation
// marker and the original length.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…[truncated " + strconv.Itoa(len(s)) + " bytes]"
}

// customAttr is one flow-written field, bounded: strings are truncated,
// other values (numbers, booleans, objects, arrays) are kept when their
// JSON is within LogFieldLimit and otherwise logged as their truncated
// JSON text. size is the bytes the value takes in the record (about).
func customAttr(name string, v any) (a slog.Attr, size int) {
	switch t := v.(type) {
	case string:
		return stringAttr(name, t)
	case json.Number:
		return numberAttr(name, t.String())
	case bool, nil:
		return scalarAttr(name, t)
	}
	name = truncate(name, LogKeyLimit)
	b, err := json.Marshal(v)
	if err != nil {
		return slog.String(name, "unloggable value: "+err.Error()), len(name) + 64
	}
	if len(b) <= LogFieldLimit {
		return slog.Any(name, v), len(name) + len(b)
	}
	s := truncate(string(b), LogFieldLimit)
	return slog.String(name, s), len(name) + len(s)
}
