package extproc

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// protoTypeOf returns the generated Go type of md.
func protoTypeOf(md protoreflect.MessageDescriptor) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", md.FullName(), err)
	}
	return mt, nil
}

// filledVariants returns instances of mt with every field set, one per
// member of each oneof (keyed by the member's name; "all" when mt has no
// oneof).
func filledVariants(mt protoreflect.MessageType) map[string]protoreflect.ProtoMessage {
	out := map[string]protoreflect.ProtoMessage{}
	oneofs := mt.Descriptor().Oneofs()
	chosen := map[protoreflect.FullName]protoreflect.FieldDescriptor{}
	for i := range oneofs.Len() {
		if o := oneofs.Get(i); !o.IsSynthetic() {
			chosen[o.FullName()] = o.Fields().Get(0)
		}
	}
	if len(chosen) == 0 {
		m := mt.New()
		fill(m, chosen, 3)
		out["all"] = m.Interface()
		return out
	}
	for i := range oneofs.Len() {
		o := oneofs.Get(i)
		if o.IsSynthetic() {
			continue
		}
		for j := range o.Fields().Len() {
			f := o.Fields().Get(j)
			pick := map[protoreflect.FullName]protoreflect.FieldDescriptor{}
			for k, v := range chosen {
				pick[k] = v
			}
			pick[o.FullName()] = f
			m := mt.New()
			fill(m, pick, 3)
			out[string(f.Name())] = m.Interface()
		}
	}
	return out
}

// fill sets every field of m to a non-default value; of each oneof only the
// member in pick (the first member when absent). Nested messages are filled
// depth levels deep.
func fill(m protoreflect.Message, pick map[protoreflect.FullName]protoreflect.FieldDescriptor, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
			want, ok := pick[o.FullName()]
			if !ok {
				want = o.Fields().Get(0)
			}
			if want.Number() != f.Number() {
				continue
			}
		}
		switch {
		case f.IsMap():
			if f.MapValue().Kind() == protoreflect.MessageKind && depth == 0 {
				continue
			}
			mp := m.Mutable(f).Map()
			mp.Set(scalar(f.MapKey(), 1).MapKey(), value(mp.NewValue, f.MapValue(), depth))
		case f.IsList():
			if f.Kind() == protoreflect.MessageKind && depth == 0 {
				continue
			}
			l := m.Mutable(f).List()
			for n := range 2 {
				if f.Kind() == protoreflect.MessageKind || f.Kind() == protoreflect.GroupKind {
					v := l.NewElement()
					fill(v.Message(), nil, depth-1)
					l.Append(v)
				} else {
					l.Append(scalar(f, n+1))
				}
			}
		case f.Kind() == protoreflect.MessageKind || f.Kind() == protoreflect.GroupKind:
			if depth == 0 {
				continue
			}
			fill(m.Mutable(f).Message(), nil, depth-1)
		default:
			m.Set(f, scalar(f, 1))
		}
	}
}

// value is a filled map value of kind f.
func value(newValue func() protoreflect.Value, f protoreflect.FieldDescriptor, depth int) protoreflect.Value {
	if f.Kind() == protoreflect.MessageKind {
		v := newValue()
		fill(v.Message(), nil, depth-1)
		return v
	}
	return scalar(f, 2)
}

// scalar is a non-default value n of f's scalar kind.
func scalar(f protoreflect.FieldDescriptor, n int) protoreflect.Value {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		vals := f.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(vals.Len() - 1).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(-7 * n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(-1) << 40 * int64(n))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(300 * n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(1) << 40 * uint64(n))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5 * float32(n))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(2.25 * float64(n))
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("%s-%d", f.Name(), n))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(fmt.Sprintf("\x00%s\xff%d", f.Name(), n)))
	}
	panic(fmt.Sprintf("fill: unhandled kind %v of %s", f.Kind(), f.FullName()))
}
