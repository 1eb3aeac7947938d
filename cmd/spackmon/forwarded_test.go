package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/server"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
)

const testGatewaySecret = "a-gateway-secret-of-at-least-32-bytes"

// guessOverGRPC makes n wrong credential checks for user straight at the auth service, each
// claiming another forwarded address, with the extra metadata given, and returns the code of
// the last one.
func guessOverGRPC(t *testing.T, srv *testServer, user string, n int, extra ...string) codes.Code {
	t.Helper()
	conn, err := server.Dial(srv.GRPCAddr, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := authv1.NewAuthServiceClient(conn)
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":smt_000000000000_wrong"))
	var last codes.Code
	for i := range n {
		md := append([]string{"authorization", basicAuth, "x-forwarded-for", fmt.Sprintf("203.0.113.%d", i+1)}, extra...)
		_, err := client.IssueToken(metadata.AppendToOutgoingContext(context.Background(), md...), &authv1.IssueTokenRequest{})
		last = status.Code(err)
	}
	return last
}

// A gRPC caller other than the gateway cannot spread its guesses over made-up forwarded
// addresses: the realm counts them against its own address, wrong secret or none.
func TestForwardedForNeedsGatewaySecret(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.GatewaySecret = testGatewaySecret })
	if got := guessOverGRPC(t, srv, "mallory", 30); got != codes.ResourceExhausted {
		t.Errorf("30 guesses without the secret: last answered %v, want ResourceExhausted", got)
	}
	if got := guessOverGRPC(t, srv, "oscar", 30, authn.GatewaySecretHeader, "not-the-secret-but-long-enough-to-try"); got != codes.ResourceExhausted {
		t.Errorf("30 guesses with a wrong secret: last answered %v, want ResourceExhausted", got)
	}
	// With the gateway's secret the forwarded addresses are believed: thirty clients, one
	// guess each, none limited.
	if got := guessOverGRPC(t, srv, "trent", 30, authn.GatewaySecretHeader, testGatewaySecret); got != codes.Unauthenticated {
		t.Errorf("30 forwarded clients: last answered %v, want Unauthenticated", got)
	}
}

// Over HTTP the gateway appends the address it saw, and a client cannot pass the gateway's
// metadata through it: forged forwarding and a forged secret still meet the limit.
func TestForwardedForOverHTTP(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	var last answer
	for i := range 11 {
		last = srv.do(t, http.MethodGet, "/auth/token/", nil, http.Header{
			"Authorization":   basic(srv.user, "smt_000000000000_wrong")["Authorization"],
			"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i+1)},
			"Grpc-Metadata-" + authn.GatewaySecretHeader: {"guessed-secret-guessed-secret-guessed"},
		})
	}
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("11th failure with forged forwarding: %d %s", last.Status, last.Body)
	}
}

// from is srv as a client at another loopback address sees it.
func (s *testServer) from(ip string) *testServer {
	c := *s
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: dialer.DialContext}}
	return &c
}

// Through the gateway each client is counted by its own address: the gateway's secret makes
// the realm believe the address it forwards, so one client's failures do not lock out
// another's good credentials.
func TestGatewayForwardsClientAddress(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	guesser, other := srv.from("127.0.0.2"), srv.from("127.0.0.3")
	var last answer
	for range 11 {
		last = guesser.do(t, http.MethodGet, "/auth/token/", nil, basic(srv.user, "smt_000000000000_wrong"))
	}
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("11th failure from one client: %d %s", last.Status, last.Body)
	}
	other.token(t, srv.user, srv.apiToken, "")
}
