package authn_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
)

const (
	checkMethod = "/grpc.health.v1.Health/Check"
	watchMethod = "/grpc.health.v1.Health/Watch"
)

// guarded serves the health service behind a guard on loopback, its methods protected by
// the given requirements, and returns a client.
func guarded(t *testing.T, r *realm, adjust func(*authn.Guard)) healthpb.HealthClient {
	t.Helper()
	g := &authn.Guard{
		Methods:   map[string]authn.Requirement{},
		Verifier:  verifier(t, r.url()),
		Challenge: authn.Challenge{Realm: issuer, Service: audience},
	}
	if adjust != nil {
		adjust(g)
	}
	return healthpb.NewHealthClient(serveGuarded(t, g))
}

// serveGuarded serves the health service (and any unknown method) behind g on loopback and
// returns a connection to it.
func serveGuarded(t *testing.T, g *authn.Guard) *grpc.ClientConn {
	t.Helper()
	s := grpc.NewServer(grpc.UnaryInterceptor(g.Unary()), grpc.StreamInterceptor(g.Stream()),
		grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error { return nil }))
	healthpb.RegisterHealthServer(s, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withBearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// call makes a unary call and returns its code and the challenge it carried.
func call(t *testing.T, c healthpb.HealthClient, ctx context.Context) (codes.Code, authn.Challenge) {
	t.Helper()
	var trailer metadata.MD
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Trailer(&trailer))
	ch, _ := authn.ParseChallenge(firstOf(trailer.Get(authn.ChallengeHeader)))
	return status.Code(err), ch
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func TestGuardUnary(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	c := guarded(t, r, func(g *authn.Guard) { g.Methods[checkMethod] = authn.Build })
	noScope, _, err := r.keys.Issue(issuer, signing.Subject{Name: "alice"}, audience, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		code  codes.Code
		error string
	}{
		{"no token", context.Background(), codes.Unauthenticated, ""},
		{"bad token", withBearer("nonsense"), codes.Unauthenticated, authn.InvalidToken},
		{"no build scope", withBearer(noScope), codes.PermissionDenied, authn.InsufficientScope},
		{"good token", withBearer(r.token("alice")), codes.OK, "-"},
	} {
		code, ch := call(t, c, tc.ctx)
		if code != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, code, tc.code)
		}
		if tc.error == "-" {
			if ch != (authn.Challenge{}) {
				t.Errorf("%s: challenge %+v on success", tc.name, ch)
			}
			continue
		}
		want := authn.Challenge{Realm: issuer, Service: audience, Scope: "build", Error: tc.error}
		if ch != want {
			t.Errorf("%s: challenge %+v, want %+v", tc.name, ch, want)
		}
	}
}

// The stream interceptor applies the same rules and hands the stream the caller.
func TestGuardStream(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	c := guarded(t, r, func(g *authn.Guard) { g.Methods[watchMethod] = authn.Build })
	recv := func(ctx context.Context) (codes.Code, metadata.MD) {
		stream, err := c.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return status.Code(err), nil
		}
		_, err = stream.Recv()
		return status.Code(err), stream.Trailer()
	}
	if code, trailer := recv(context.Background()); code != codes.Unauthenticated || len(trailer.Get(authn.ChallengeHeader)) != 1 {
		t.Errorf("no token: %v, trailer %v", code, trailer)
	}
	if code, _ := recv(withBearer(r.token("alice"))); code != codes.OK {
		t.Errorf("good token: %v", code)
	}
}

func TestGuardModes(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	admin, _, err := r.keys.Issue(issuer, signing.Subject{Name: "root"}, audience, []signing.Access{signing.AdminAccess()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		need         authn.Requirement
		disabled     bool
		privateReads bool
		ctx          context.Context
		want         codes.Code
	}{
		{"public read", authn.Read, false, false, context.Background(), codes.OK},
		{"private read without token", authn.Read, false, true, context.Background(), codes.Unauthenticated},
		{"private read with token", authn.Read, false, true, withBearer(r.token("alice")), codes.OK},
		{"disabled write", authn.Build, true, false, context.Background(), codes.OK},
		{"disabled admin without token", authn.Admin, true, false, context.Background(), codes.Unauthenticated},
		{"admin with build token", authn.Admin, false, false, withBearer(r.token("alice")), codes.PermissionDenied},
		{"admin with admin token", authn.Admin, false, false, withBearer(admin), codes.OK},
		{"public", authn.Public, false, true, context.Background(), codes.OK},
		{"submit without token", authn.Submit, false, false, context.Background(), codes.OK},
		{"submit with bad token", authn.Submit, false, false, withBearer("nonsense"), codes.Unauthenticated},
		{"submit with token", authn.Submit, false, false, withBearer(r.token("alice")), codes.OK},
		{"disabled submit", authn.Submit, true, false, context.Background(), codes.OK},
	} {
		c := guarded(t, r, func(g *authn.Guard) {
			g.Methods[checkMethod], g.Disabled, g.PrivateReads = tc.need, tc.disabled, tc.privateReads
		})
		if code, _ := call(t, c, tc.ctx); code != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, code, tc.want)
		}
	}
	// A method of a guarded service missing from the table is closed; health stays open.
	c := guarded(t, r, func(g *authn.Guard) { g.Methods["/spackmon.x.v1.X/Y"] = authn.Build })
	if code, _ := call(t, c, context.Background()); code != codes.OK {
		t.Errorf("health without a requirement: %v", code)
	}
}

// A method missing from the table is refused, whatever the token.
func TestGuardClosesUnknownMethods(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	conn := serveGuarded(t, &authn.Guard{Methods: map[string]authn.Requirement{}, Verifier: verifier(t, r.url()),
		Challenge: authn.Challenge{Realm: issuer, Service: audience}})
	var out healthpb.HealthCheckResponse
	err := conn.Invoke(withBearer(r.token("alice")), "/spackmon.x.v1.X/Y", &healthpb.HealthCheckRequest{}, &out)
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("unknown method: %v", err)
	}
}

func TestCheckServices(t *testing.T) {
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	g := &authn.Guard{Methods: map[string]authn.Requirement{}}
	if err := g.CheckServices(s.GetServiceInfo()); err != nil {
		t.Errorf("health needs no entry: %v", err)
	}
	fake := map[string]grpc.ServiceInfo{"spackmon.x.v1.X": {Methods: []grpc.MethodInfo{{Name: "Y"}, {Name: "Z"}}}}
	g.Methods["/spackmon.x.v1.X/Y"] = authn.Read
	if err := g.CheckServices(fake); err == nil {
		t.Error("a method without a requirement passed")
	}
	g.Methods["/spackmon.x.v1.X/Z"] = authn.Build
	if err := g.CheckServices(fake); err != nil {
		t.Error(err)
	}
}

// Gateway methods need the gateway's secret, shown once, or an admin token; Session methods
// a web session token. Neither opens up when auth is disabled.
func TestGuardGatewayAndSession(t *testing.T) {
	key, _ := mustKey(t)
	r := newRealm(t, key)
	const secret = "the-gateway-secret-of-the-test-realm"
	admin, _, err := r.keys.Issue(issuer, signing.Subject{Name: "root"}, audience, []signing.Access{signing.AdminAccess()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	web, _, err := r.keys.IssueWebSession(issuer, signing.Subject{Name: "alice", UserID: 3, APITokenID: 9}, audience, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	showing := func(values ...string) context.Context {
		pairs := []string{}
		for _, v := range values {
			pairs = append(pairs, authn.GatewaySecretHeader, v)
		}
		return metadata.AppendToOutgoingContext(context.Background(), pairs...)
	}
	for _, tc := range []struct {
		name     string
		need     authn.Requirement
		disabled bool
		ctx      context.Context
		want     codes.Code
	}{
		{"gateway with the secret", authn.Gateway, false, showing(secret), codes.OK},
		{"gateway with a wrong secret", authn.Gateway, false, showing("not-the-secret-but-as-long-as-it"), codes.Unauthenticated},
		{"gateway with the secret twice", authn.Gateway, false, showing(secret, secret), codes.Unauthenticated},
		{"gateway with a build token", authn.Gateway, false, withBearer(r.token("alice")), codes.PermissionDenied},
		{"gateway with a web session", authn.Gateway, false, withBearer(web), codes.PermissionDenied},
		{"gateway with an admin token", authn.Gateway, false, withBearer(admin), codes.OK},
		{"gateway, auth disabled, nothing shown", authn.Gateway, true, context.Background(), codes.Unauthenticated},
		{"session with a web session", authn.Session, false, withBearer(web), codes.OK},
		{"session with a build token", authn.Session, false, withBearer(r.token("alice")), codes.PermissionDenied},
		{"session with an admin token", authn.Session, false, withBearer(admin), codes.PermissionDenied},
		{"session, auth disabled, no token", authn.Session, true, context.Background(), codes.Unauthenticated},
		{"session with the gateway secret", authn.Session, false, showing(secret), codes.Unauthenticated},
		{"build with a web session", authn.Build, false, withBearer(web), codes.PermissionDenied},
		{"private read with a web session", authn.Read, false, withBearer(web), codes.OK},
	} {
		c := guarded(t, r, func(g *authn.Guard) {
			g.Methods[checkMethod], g.Disabled, g.GatewaySecret, g.PrivateReads = tc.need, tc.disabled, secret, true
		})
		if code, _ := call(t, c, tc.ctx); code != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, code, tc.want)
		}
	}
	// Without a configured secret nothing shown passes for it.
	c := guarded(t, r, func(g *authn.Guard) { g.Methods[checkMethod] = authn.Gateway })
	if code, _ := call(t, c, showing("")); code != codes.Unauthenticated {
		t.Errorf("an empty secret shown to a guard without one: %v", code)
	}
}
