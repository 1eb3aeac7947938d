package gateway

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// A row under the wrong method would never be found, and a decoder keyed by the wrong
// request never called: every row names a method the services declare, with its messages.
func TestProtocolRowsMatchTheirMethods(t *testing.T) {
	if len(protocol) == 0 {
		t.Fatal("the protocol table has no rows")
	}
	for method, r := range protocol {
		name := protoreflect.FullName(strings.Replace(strings.TrimPrefix(method, "/"), "/", ".", 1))
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Errorf("row %q: no such method: %v", method, err)
			continue
		}
		m, ok := d.(protoreflect.MethodDescriptor)
		if !ok {
			t.Errorf("row %q names a %T, not a method", method, d)
			continue
		}
		if m.Input().FullName() != r.request || m.Output().FullName() != r.response {
			t.Errorf("row %q is typed %s -> %s; the method takes %s -> %s", method, r.request, r.response, m.Input().FullName(), m.Output().FullName())
		}
	}
}

// Every /ms1 route has the protocol's form, not the plain messages: each write reads the
// protocol's body and answers an envelope, each look-up answers bare JSON.
func TestEveryProtocolRouteHasARow(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	routes := 0
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/ms1/") {
			continue
		}
		for verb, op := range ops {
			routes++
			// The generator numbers the additional bindings of one method: ListAttributes2.
			service, method, _ := strings.Cut(strings.TrimRight(op.OperationID, "0123456789"), "_")
			method, r, ok := rowNamed(service, method)
			if !ok {
				t.Errorf("%s %s (%s) has no row", verb, path, op.OperationID)
				continue
			}
			body := r.body(routed(t, method, path), emptyMessage(t, r.response))
			_, isEnvelope := body.(envelope)
			_, isMessage := body.(proto.Message)
			switch {
			case verb == "post" && (r.decode == nil || !isEnvelope):
				t.Errorf("%s %s (%s): a protocol write needs a body decoder and an envelope, answers %T", verb, path, op.OperationID, body)
			case verb == "get" && isMessage:
				t.Errorf("%s %s (%s): a protocol look-up answers bare JSON, not the message", verb, path, op.OperationID)
			}
		}
	}
	if routes == 0 {
		t.Fatal("the OpenAPI document lists no /ms1 routes")
	}
}

// routed is the context the mux gives a call of method by the route path.
func routed(t *testing.T, method, path string) context.Context {
	ctx, err := runtime.AnnotateContext(context.Background(), runtime.NewServeMux(), httptest.NewRequest("GET", "/", nil), method, runtime.WithHTTPPathPattern(path))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func emptyMessage(t *testing.T, name protoreflect.FullName) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

// rowNamed is the row of a method named as the OpenAPI operations are, and its gRPC name.
func rowNamed(service, method string) (string, rpc, bool) {
	for name, r := range protocol {
		if strings.HasSuffix(name, "."+service+"/"+method) {
			return name, r, true
		}
	}
	return "", rpc{}, false
}
