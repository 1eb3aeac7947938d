package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"

	"github.com/spackmon/spackmon/pkg/authn"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
)

// incomingHeader is grpc-gateway's default mapping of HTTP headers to metadata, except that
// a client cannot send the gateway's own metadata (Grpc-Metadata-X-Spackmon-...): a second
// secret beside the gateway's would make the auth service distrust the call.
func incomingHeader(key string) (string, bool) {
	if strings.HasPrefix(strings.ToLower(key), strings.ToLower(runtime.MetadataHeaderPrefix)+"x-spackmon-") {
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}

// showSecret adds the gateway secret to calls of the auth service, and to no other.
func (c Config) showSecret(ctx context.Context, _ *http.Request) metadata.MD {
	method, ok := runtime.RPCMethod(ctx)
	if c.GatewaySecret == "" || !ok || !strings.HasPrefix(method, "/"+authv1.AuthService_ServiceDesc.ServiceName+"/") {
		return nil
	}
	return metadata.Pairs(authn.GatewaySecretHeader, c.GatewaySecret)
}
