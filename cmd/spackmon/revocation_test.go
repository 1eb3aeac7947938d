package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/server"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	authservice "github.com/spackmon/spackmon/services/auth/service"
)

// administer runs fn on the server's users the way the spackmon user commands do.
func (s *testServer) administer(t testing.TB, fn func(u *authservice.Users) error) {
	t.Helper()
	st, err := openAuthStore(context.Background(), s.db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := fn(authservice.NewUsers(st)); err != nil {
		t.Fatal(err)
	}
}

// writes tries one write with tok over HTTP and one over gRPC and returns what each answered:
// the HTTP status, and the gRPC code with the error of the challenge in its trailer.
func writes(t *testing.T, srv *testServer, ingest ingestv1.IngestServiceClient, tok string) (answer, codes.Code, string) {
	t.Helper()
	a := srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok))
	var trailer metadata.MD
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	_, err := ingest.NewSpec(ctx, &ingestv1.NewSpecRequest{Spec: readTestdata(t, "specs", "singularity-3.6.4.json"), SpackVersion: "0.16.0"},
		grpc.Trailer(&trailer))
	c, _ := authn.ParseChallenge(strings.Join(trailer.Get(authn.ChallengeHeader), ""))
	return a, status.Code(err), c.Error
}

// Disabling, deleting or rotating a user stops the realm tokens issued before it, over HTTP
// and gRPC, within the revocation refresh; each is answered with the invalid_token
// challenge that makes Spack fetch a new token (which the realm then refuses).
func TestRevocationStopsIssuedTokens(t *testing.T) {
	actions := []struct {
		name string
		do   func(u *authservice.Users, name string) error
	}{
		{"disable", func(u *authservice.Users, name string) error {
			_, err := u.SetDisabled(context.Background(), name, true)
			return err
		}},
		{"delete", func(u *authservice.Users, name string) error { return u.Delete(context.Background(), name) }},
		{"rotate", func(u *authservice.Users, name string) error {
			_, err := u.Rotate(context.Background(), name)
			return err
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv := startServe(t, b.database(t), func(c *serveConfig) { c.RevocationRefresh = 20 * time.Millisecond })
			conn, err := server.Dial(srv.GRPCAddr, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ingest := ingestv1.NewIngestServiceClient(conn)
			for _, act := range actions {
				t.Run(act.name, func(t *testing.T) {
					name, apiToken := srv.addUser(t, "user-"+act.name, false)
					tok := srv.token(t, name, apiToken, "")
					if a, code, _ := writes(t, srv, ingest, tok); a.Status >= 300 || code != codes.OK {
						t.Fatalf("before %s: HTTP %d %s, gRPC %v", act.name, a.Status, a.Body, code)
					}
					srv.administer(t, func(u *authservice.Users) error { return act.do(u, name) })
					var a answer
					var code codes.Code
					var challengeErr string
					for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
						if a, code, challengeErr = writes(t, srv, ingest, tok); a.Status == http.StatusUnauthorized && code != codes.OK {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("after %s the token still writes: HTTP %d, gRPC %v", act.name, a.Status, code)
						}
					}
					wantChallenge(t, srv, a, http.StatusUnauthorized, authn.InvalidToken)
					if code != codes.Unauthenticated || challengeErr != authn.InvalidToken {
						t.Errorf("gRPC after %s: %v with challenge error %q", act.name, code, challengeErr)
					}
					if r := srv.do(t, http.MethodGet, "/auth/token/", nil, basic(name, apiToken)); r.Status != http.StatusUnauthorized {
						t.Errorf("realm after %s: %d %s", act.name, r.Status, r.Body)
					}
				})
			}
			// The list the services fetch: the disable and the delete revoke users, the
			// rotation the rotated user's API token.
			var list authn.RevocationList
			if a := srv.get(t, "/.well-known/spackmon-revocations.json"); a.Status != http.StatusOK || json.Unmarshal(a.Body, &list) != nil {
				t.Fatalf("revocation list: %d %s", a.Status, a.Body)
			}
			users, tokens := 0, 0
			for _, r := range list.Revocations {
				if r.UserID <= 0 || r.RevokedAt < time.Now().Add(-time.Hour).Unix() {
					t.Errorf("revocation %+v", r)
				}
				if r.APITokenID != 0 {
					tokens++
				} else {
					users++
				}
			}
			if users != 2 || tokens != 1 {
				t.Errorf("revocations %+v: want 2 of users and 1 of an API token", list.Revocations)
			}
			// A user enabled again gets tokens that work: only those issued until the disable
			// are revoked (one issued within the same second is too, so it may take a second).
			name, apiToken := srv.addUser(t, "user-reenabled", false)
			srv.administer(t, func(u *authservice.Users) error {
				if _, err := u.SetDisabled(context.Background(), name, true); err != nil {
					return err
				}
				_, err := u.SetDisabled(context.Background(), name, false)
				return err
			})
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				a, code, _ := writes(t, srv, ingest, srv.token(t, name, apiToken, ""))
				if a.Status < 300 && code == codes.OK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("re-enabled user's new tokens refused: HTTP %d %s, gRPC %v", a.Status, a.Body, code)
				}
			}
		})
	}
}
