package flat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// member is one key of a JSON object in document order.
type member struct {
	key string
	raw json.RawMessage
}

// objectMembers decodes a JSON object keeping key order.
func objectMembers(data []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	t, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if delim, ok := t.(json.Delim); !ok || delim != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		out = append(out, member{key: key, raw: raw})
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON object")
	}
	return out, nil
}

// scalarString renders a JSON scalar as header text: strings unquoted,
// numbers and booleans as written. ok is false for null, objects, arrays.
func scalarString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 'n', '{', '[':
		return "", false
	}
	return string(raw), true
}

// orderedMap is a JSON object that keeps insertion order; values are
// json.RawMessage scalars/arrays or nested *orderedMap.
type orderedMap struct {
	keys []string
	vals map[string]any
}

func (m *orderedMap) set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *orderedMap) del(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			break
		}
	}
}

// merge merges a JSON object into m: nested objects merge, null deletes,
// anything else overwrites.
func (m *orderedMap) merge(data []byte) error {
	ms, err := objectMembers(data)
	if err != nil {
		return err
	}
	for _, mem := range ms {
		raw := bytes.TrimSpace(mem.raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
			m.del(mem.key)
		case len(raw) > 0 && raw[0] == '{':
			sub, ok := m.vals[mem.key].(*orderedMap)
			if !ok {
				sub = &orderedMap{}
			}
			if err := sub.merge(raw); err != nil {
				return err
			}
			m.set(mem.key, sub)
		default:
			m.set(mem.key, json.RawMessage(raw))
		}
	}
	return nil
}

func (m *orderedMap) write(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		switch v := m.vals[k].(type) {
		case *orderedMap:
			v.write(b)
		case json.RawMessage:
			b.Write(v)
		}
	}
	b.WriteByte('}')
}

func itoa(n int) string { return strconv.Itoa(n) }
