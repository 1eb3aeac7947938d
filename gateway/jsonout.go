package gateway

import (
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// messageValue renders a message the way protojson does with proto field names and
// unpopulated fields, except that 64-bit integers stay JSON numbers: every id on the wire
// is a number (PROTOCOL.md §1), and no id or count here comes near 2^53.
func messageValue(m protoreflect.Message) any {
	if !m.IsValid() {
		return nil
	}
	if ts, ok := m.Interface().(*timestamppb.Timestamp); ok {
		return ts.AsTime().UTC().Format(time.RFC3339Nano)
	}
	fields := m.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		out[string(fd.Name())] = fieldValue(m, fd)
	}
	return out
}

func fieldValue(m protoreflect.Message, fd protoreflect.FieldDescriptor) any {
	switch {
	case fd.IsList():
		list := m.Get(fd).List()
		values := make([]any, list.Len())
		for i := range values {
			values[i] = singular(fd, list.Get(i))
		}
		return values
	case fd.IsMap():
		values := map[string]any{}
		m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			values[k.String()] = singular(fd.MapValue(), v)
			return true
		})
		return values
	case fd.HasPresence() && !m.Has(fd):
		return nil
	}
	return singular(fd, m.Get(fd))
}

func singular(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageValue(v.Message())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int32(v.Enum())
	}
	return v.Interface()
}
