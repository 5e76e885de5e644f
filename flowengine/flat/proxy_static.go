package flat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// proxyKeys are the properties of a proxy-request configuration.
var proxyKeys = map[string]bool{"origin": true, "url": true, "stripEndpoint": true, "addPrefix": true, "query": true, "headers": true, "options": true}

// checkProxySkeleton checks a proxy-request body that holds template
// commands where its static parts allow: the JSON around the commands must
// be an object, its keys must be known properties, and a static "origin"
// or "url" must be an absolute http(s) URL. Placeholders ({{ expr }},
// {{.}}) stand for one JSON value each, comments vanish and {{,}} is a
// pending comma. A body with other commands (blocks, pair producers,
// variables) cannot be checked before it runs; checked is then false.
func checkProxySkeleton(text string) (checked bool, err error) {
	skel, ok := proxySkeleton(text)
	if !ok {
		return false, nil
	}
	doc, perr := oxn.Parse([]byte(skel), 512)
	if perr != nil {
		return true, fmt.Errorf("invalid proxy configuration: the JSON around the template commands is not valid: %w", perr)
	}
	root := doc.FirstElement()
	if oxn.TypeOf(root) != oxn.Object {
		return true, errors.New("invalid proxy configuration: not a JSON object")
	}
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != dom.ElementNode {
			continue
		}
		k := oxn.Key(c)
		if !proxyKeys[k] {
			return true, fmt.Errorf("unknown property %q (known: origin, url, stripEndpoint, addPrefix, query, headers, options)", k)
		}
		if (k == "origin" || k == "url") && oxn.TypeOf(c) == oxn.String && c.StringValue() != skeletonValue {
			if _, err := parseTarget(c.StringValue()); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// skeletonValue is the JSON string a placeholder stands for in a skeleton.
const skeletonValue = "\x00template value\x00"

// proxySkeleton replaces the template commands of text by what they stand
// for, and applies the template's comma rules (a pending comma is written
// only between values). ok is false when text holds a command that is not
// a placeholder, a comment or {{,}}, or a command does not end.
func proxySkeleton(text string) (string, bool) {
	var b strings.Builder
	pendingComma := false
	last := byte(0) // last significant byte written
	emit := func(s string) {
		if s == "" {
			return
		}
		c := s[0]
		if pendingComma && c != '}' && c != ']' && c != ':' && last != '{' && last != '[' && last != ':' && last != ',' && last != 0 {
			b.WriteByte(',')
			last = ','
		}
		pendingComma = false
		b.WriteString(s)
		last = s[len(s)-1]
	}
	placeholder := `"` + strings.ReplaceAll(skeletonValue, "\x00", `\u0000`) + `"`
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(text) {
				return "", false
			}
			emit(text[i : j+1])
			i = j + 1
		case c == '{' && strings.HasPrefix(text[i:], "{{") && !strings.HasPrefix(text[i:], "{{{"):
			end := commandEnd(text, i+2)
			if end < 0 {
				return "", false
			}
			cmd := text[i+2 : end]
			switch {
			case cmd == ",":
				pendingComma = true
			case strings.HasPrefix(cmd, "//"):
			case cmd == "." || strings.HasPrefix(cmd, " "):
				emit(placeholder)
			default:
				return "", false
			}
			i = end + 2
		case c == ',':
			pendingComma = true
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			b.WriteByte(c)
			i++
		default:
			emit(text[i : i+1])
			i++
		}
	}
	return b.String(), true
}

// commandEnd returns the index of the "}}" that closes the command whose
// content starts at i (quotes in expressions respected), or -1.
func commandEnd(text string, i int) int {
	var quote byte
	for ; i+1 < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '}' && text[i+1] == '}':
			return i
		}
	}
	return -1
}
