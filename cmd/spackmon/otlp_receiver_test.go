package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// otlpReceiver is an OpenTelemetry collector's trace endpoint (OTLP over gRPC) on loopback:
// it keeps every span the processes export.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	addr string

	mu    sync.Mutex
	spans []receivedSpan
}

// receivedSpan is a span as a collector sees it, with the service that sent it.
type receivedSpan struct {
	Service                 string
	TraceID, SpanID, Parent string
	Name                    string
	Kind                    tracepb.Span_SpanKind
	Attributes              map[string]string
}

func startOTLPReceiver(t testing.TB) *otlpReceiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{addr: lis.Addr().String()}
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, r)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return r
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	var got []receivedSpan
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				got = append(got, receivedSpan{
					Service: service, TraceID: hex.EncodeToString(sp.GetTraceId()), SpanID: hex.EncodeToString(sp.GetSpanId()),
					Parent: hex.EncodeToString(sp.GetParentSpanId()), Name: sp.GetName(), Kind: sp.GetKind(),
					Attributes: attributes(sp.GetAttributes()),
				})
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.mu.Unlock()
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// attributes are key-values as text.
func attributes(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = fmt.Sprint(v.DoubleValue)
		}
	}
	return m
}

// trace is the spans received so far of the trace id.
func (r *otlpReceiver) trace(traceID string) []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var spans []receivedSpan
	for _, s := range r.spans {
		if s.TraceID == traceID {
			spans = append(spans, s)
		}
	}
	return spans
}

// waitTrace waits until the trace's spans received satisfy complete (the processes export
// in batches); the deadline only bounds a failing test.
func (r *otlpReceiver) waitTrace(t testing.TB, traceID string, complete func([]receivedSpan) bool) []receivedSpan {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		spans := r.trace(traceID)
		if complete(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s incomplete after 30 s:\n%s", traceID, describeSpans(spans))
		}
	}
}

func describeSpans(spans []receivedSpan) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %s %q span %s parent %s %v\n", s.Service, s.Kind, s.Name, s.SpanID, s.Parent, s.Attributes)
	}
	return b.String()
}

// traceParent is a W3C traceparent header for a new trace, as a client that traces its
// own requests sends it: the server's spans join that trace under the client's span.
type traceParent struct{ traceID, spanID string }

func newTraceParent() traceParent {
	return traceParent{traceID: randomHex(16), spanID: randomHex(8)}
}

func (p traceParent) header() string { return "00-" + p.traceID + "-" + p.spanID + "-01" }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
