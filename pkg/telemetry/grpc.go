package telemetry

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Span attributes that say what a call was about.
const (
	AttrBuildID  = "spackmon.build_id"
	AttrSpecHash = "spackmon.spec_hash"
	AttrUser     = "spackmon.user"
)

// UnaryServerMetrics counts and times every unary call and puts the build id and spec hash
// its request or response names on its span. It goes first in the chain, so that calls
// the later interceptors refuse are counted too.
func UnaryServerMetrics() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		annotate(ctx, req)
		resp, err := h(ctx, req)
		annotate(ctx, resp)
		observeCall(info.FullMethod, err, start)
		return resp, err
	}
}

// StreamServerMetrics counts and times every streaming call.
func StreamServerMetrics() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		start := time.Now()
		err := h(srv, ss)
		observeCall(info.FullMethod, err, start)
		return err
	}
}

func observeCall(fullMethod string, err error, start time.Time) {
	service, method := splitMethod(fullMethod)
	grpcHandled.WithLabelValues(service, method, status.Code(err).String()).Inc()
	grpcDuration.WithLabelValues(service, method).Observe(time.Since(start).Seconds())
}

// splitMethod splits "/pkg.Service/Method"; the server calls only registered methods, so
// the labels stay a fixed set.
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// annotate puts on the span of ctx the build id and spec hash that msg names: its own
// build_id and full_hash fields, or the id of its build and the full_hash of its spec.
func annotate(ctx context.Context, msg any) {
	span := trace.SpanFromContext(ctx)
	m, ok := msg.(proto.Message)
	if !ok || m == nil || !span.IsRecording() {
		return
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return
	}
	if id, ok := intField(r, "build_id"); ok {
		span.SetAttributes(attribute.Int64(AttrBuildID, id))
	} else if build, ok := messageField(r, "build"); ok {
		if id, ok := intField(build, "id"); ok {
			span.SetAttributes(attribute.Int64(AttrBuildID, id))
		}
	}
	if hash, ok := stringField(r, "full_hash"); ok {
		span.SetAttributes(attribute.String(AttrSpecHash, hash))
	} else if spec, ok := messageField(r, "spec"); ok {
		if hash, ok := stringField(spec, "full_hash"); ok {
			span.SetAttributes(attribute.String(AttrSpecHash, hash))
		}
	}
}

// maxAttributeText bounds a hash copied onto a span: hashes are short, a request's field
// may not be.
const maxAttributeText = 128

func field(r protoreflect.Message, name string, kinds ...protoreflect.Kind) (protoreflect.FieldDescriptor, bool) {
	fd := r.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil || fd.IsList() || fd.IsMap() || !r.Has(fd) {
		return nil, false
	}
	for _, k := range kinds {
		if fd.Kind() == k {
			return fd, true
		}
	}
	return nil, false
}

func intField(r protoreflect.Message, name string) (int64, bool) {
	fd, ok := field(r, name, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Int32Kind)
	if !ok {
		return 0, false
	}
	return r.Get(fd).Int(), true
}

func stringField(r protoreflect.Message, name string) (string, bool) {
	fd, ok := field(r, name, protoreflect.StringKind)
	if !ok {
		return "", false
	}
	s := r.Get(fd).String()
	return s[:min(len(s), maxAttributeText)], true
}

func messageField(r protoreflect.Message, name string) (protoreflect.Message, bool) {
	fd, ok := field(r, name, protoreflect.MessageKind)
	if !ok {
		return nil, false
	}
	return r.Get(fd).Message(), true
}

// SetUser puts the name of the user a call acts for on its span (the name only: never a
// token or a credential).
func SetUser(ctx context.Context, name string) {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String(AttrUser, name))
}
