package oxn

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/dom"
)

func typed(name string, t Type) *dom.Node {
	return &dom.Node{Type: dom.ElementNode, Name: name, Attrs: []dom.Attr{{Name: typeNames[t]}}}
}

func typedText(name string, t Type, s string) *dom.Node {
	n := typed(name, t)
	if s != "" {
		n.AppendChild(dom.NewText(s))
	}
	return n
}

// NewObject returns an empty object element named name.
func NewObject(name string) *dom.Node { return typed(name, Object) }

// NewArray returns an empty array element named name.
func NewArray(name string) *dom.Node { return typed(name, Array) }

// NewString returns a string element named name holding v.
func NewString(name, v string) *dom.Node { return typedText(name, String, v) }

// NewNumber returns a number element named name holding v formatted by
// FormatNumber. JSON has no NaN or infinities: for those it returns a null
// element.
func NewNumber(name string, v float64) *dom.Node {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return NewNull(name)
	}
	return typedText(name, Number, FormatNumber(v))
}

// NewNumberText returns a number element named name holding the number text
// v as is (callers pass JSON number syntax; Write rejects other text it
// cannot read as a number).
func NewNumberText(name, v string) *dom.Node { return typedText(name, Number, v) }

// NewBool returns a boolean element named name.
func NewBool(name string, v bool) *dom.Node {
	if v {
		return typedText(name, Boolean, "true")
	}
	return typedText(name, Boolean, "false")
}

// NewNull returns a null element named name.
func NewNull(name string) *dom.Node { return typed(name, Null) }

// AddMember appends child to the object obj as member key: child is renamed
// to key when key is an XML name, otherwise to json-element with a leading
// name="key" attribute. child must be detached.
func AddMember(obj *dom.Node, key string, child *dom.Node) {
	SetKey(child, key)
	obj.AppendChild(child)
}

// SetKey names the element n for member key (see AddMember), replacing a
// previous json-element name attribute.
func SetKey(n *dom.Node, key string) {
	if n.Name == KeyElementName {
		n.RemoveAttr(KeyAttr)
	}
	if IsXMLName(key) {
		n.Name = key
		return
	}
	n.Name = KeyElementName
	attrs := make([]dom.Attr, 0, len(n.Attrs)+1)
	attrs = append(attrs, dom.Attr{Name: KeyAttr, Value: key})
	n.Attrs = append(attrs, n.Attrs...)
}

// AddValue appends child to the array arr as an item (renamed to value).
// child must be detached.
func AddValue(arr *dom.Node, child *dom.Node) {
	if child.Name == KeyElementName {
		child.RemoveAttr(KeyAttr)
	}
	child.Name = ValueName
	arr.AppendChild(child)
}

// FromGo converts a Go value, as produced by encoding/json, into an OXN
// element named name: map[string]any (members in sorted key order), []any,
// string, float64 and the other numeric kinds, json.Number, bool and nil.
// Other maps and slices are converted through reflection the same way;
// any other value becomes the string fmt.Sprint gives.
func FromGo(name string, v any) *dom.Node {
	switch x := v.(type) {
	case nil:
		return NewNull(name)
	case *dom.Node:
		if x == nil {
			return NewNull(name)
		}
		c := x.Clone()
		if c.Type == dom.ElementNode {
			c.Name = name
			return c
		}
		return NewString(name, x.StringValue())
	case string:
		return NewString(name, x)
	case bool:
		return NewBool(name, x)
	case float64:
		return NewNumber(name, x)
	case float32:
		return NewNumber(name, float64(x))
	case int:
		return typedText(name, Number, strconv.FormatInt(int64(x), 10))
	case int64:
		return typedText(name, Number, strconv.FormatInt(x, 10))
	case int32:
		return typedText(name, Number, strconv.FormatInt(int64(x), 10))
	case uint64:
		return typedText(name, Number, strconv.FormatUint(x, 10))
	case uint:
		return typedText(name, Number, strconv.FormatUint(uint64(x), 10))
	case json.Number:
		if IsJSONNumber(string(x)) {
			return NewNumberText(name, string(x))
		}
		return NewString(name, string(x))
	case map[string]any:
		obj := NewObject(name)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			AddMember(obj, k, FromGo(ValueName, x[k]))
		}
		return obj
	case []any:
		arr := NewArray(name)
		for _, e := range x {
			AddValue(arr, FromGo(ValueName, e))
		}
		return arr
	case map[string]string:
		obj := NewObject(name)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			AddMember(obj, k, NewString(ValueName, x[k]))
		}
		return obj
	case []string:
		arr := NewArray(name)
		for _, e := range x {
			AddValue(arr, NewString(ValueName, e))
		}
		return arr
	}
	return fromReflect(name, reflect.ValueOf(v))
}

func fromReflect(name string, rv reflect.Value) *dom.Node {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return NewNull(name)
		}
		return FromGo(name, rv.Elem().Interface())
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		obj := NewObject(name)
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			AddMember(obj, k, FromGo(ValueName, rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()))
		}
		return obj
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return NewString(name, string(rv.Bytes()))
		}
		arr := NewArray(name)
		for i := 0; i < rv.Len(); i++ {
			AddValue(arr, FromGo(ValueName, rv.Index(i).Interface()))
		}
		return arr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return typedText(name, Number, strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return typedText(name, Number, strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return NewNumber(name, rv.Float())
	case reflect.Bool:
		return NewBool(name, rv.Bool())
	case reflect.String:
		return NewString(name, rv.String())
	case reflect.Invalid:
		return NewNull(name)
	}
	return NewString(name, fmt.Sprint(rv.Interface()))
}
