package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/server"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

func withBearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// The web login RPCs over gRPC: only the gateway (its secret) or an admin may log in an
// identity; a web session token reads but never writes and is the only token the
// self-service accepts; rotating, ending the session and deleting the account do what they
// say.
func TestWebLoginOverGRPC(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv := startServe(t, b.database(t), func(c *serveConfig) {
				c.GatewaySecret = testGatewaySecret
				c.RevocationRefresh = 20 * time.Millisecond
			})
			conn, err := server.Dial(srv.GRPCAddr, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			auth := authv1.NewAuthServiceClient(conn)
			ingest := ingestv1.NewIngestServiceClient(conn)
			identity := &authv1.LoginWithIdentityRequest{Provider: "github", Subject: "1001", PreferredName: "alice",
				Email: "alice@example.org", EmailVerified: true}

			// Nobody but the gateway or an admin logs an identity in.
			for what, ctx := range map[string]context.Context{
				"no credentials": context.Background(),
				"a user's token": withBearer(srv.bearer),
				"a wrong secret": metadata.AppendToOutgoingContext(context.Background(), authn.GatewaySecretHeader, strings.Repeat("x", 42)),
				"a secret twice": metadata.AppendToOutgoingContext(context.Background(), authn.GatewaySecretHeader, testGatewaySecret, authn.GatewaySecretHeader, testGatewaySecret),
			} {
				if _, err := auth.LoginWithIdentity(ctx, identity); status.Code(err) != codes.Unauthenticated && status.Code(err) != codes.PermissionDenied {
					t.Errorf("LoginWithIdentity with %s: %v", what, err)
				}
			}
			gw := metadata.AppendToOutgoingContext(context.Background(), authn.GatewaySecretHeader, testGatewaySecret)
			ws, err := auth.LoginWithIdentity(gw, identity)
			if err != nil {
				t.Fatal(err)
			}
			// alice exists (the harness made her), so the new identity's user is alice-2.
			if !ws.GetCreated() || ws.GetUser().GetName() != "alice-2" || ws.GetToken() == "" || ws.GetExpiresAt().AsTime().Before(time.Now().Add(time.Hour)) {
				t.Fatalf("LoginWithIdentity = %v", ws)
			}
			again, err := auth.LoginWithIdentity(gw, identity)
			if err != nil || again.GetCreated() || again.GetUser().GetName() != "alice-2" {
				t.Fatalf("second login = %v, %v", again, err)
			}
			session := withBearer(ws.GetToken())
			if s, err := auth.GetSession(session, &authv1.GetSessionRequest{}); err != nil || s.GetUser().GetName() != "alice-2" {
				t.Fatalf("GetSession = %v, %v", s, err)
			}
			// A realm token is no web session, and a web session token writes nothing.
			if _, err := auth.GetSession(withBearer(srv.bearer), &authv1.GetSessionRequest{}); status.Code(err) != codes.PermissionDenied {
				t.Errorf("GetSession with a realm token: %v", err)
			}
			if _, err := auth.GetSession(context.Background(), &authv1.GetSessionRequest{}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("GetSession without a token: %v", err)
			}
			if _, err := ingest.NewSpec(session, &ingestv1.NewSpecRequest{Spec: readTestdata(t, "specs", "singularity-3.6.4.json"), SpackVersion: "0.16.0"}); status.Code(err) != codes.PermissionDenied {
				t.Errorf("NewSpec with a web session token: %v", err)
			}
			ids, err := auth.ListIdentities(session, &authv1.ListIdentitiesRequest{})
			if err != nil || len(ids.GetIdentities()) != 1 || ids.GetIdentities()[0].GetSubject() != "1001" || !ids.GetIdentities()[0].GetEmailVerified() {
				t.Errorf("ListIdentities = %v, %v", ids, err)
			}

			// The new API token works; a second rotation stops the first.
			first, err := auth.RotateOwnToken(session, &authv1.RotateOwnTokenRequest{})
			if err != nil {
				t.Fatal(err)
			}
			srv.token(t, "alice-2", first.GetApiToken(), "")
			second, err := auth.RotateOwnToken(session, &authv1.RotateOwnTokenRequest{})
			if err != nil {
				t.Fatal(err)
			}
			srv.token(t, "alice-2", second.GetApiToken(), "")
			if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic("alice-2", first.GetApiToken())); a.Status != http.StatusUnauthorized {
				t.Errorf("the rotated token: %d %s", a.Status, a.Body)
			}
			// ... and still logs in with it on the form's RPC; the rotation left the session.
			byToken, err := auth.LoginWithAPIToken(metadata.AppendToOutgoingContext(context.Background(), "authorization", basicValue("alice-2", second.GetApiToken())), &authv1.LoginWithAPITokenRequest{})
			if err != nil || byToken.GetUser().GetName() != "alice-2" {
				t.Fatalf("LoginWithAPIToken = %v, %v", byToken, err)
			}
			if _, err := auth.GetSession(session, &authv1.GetSessionRequest{}); err != nil {
				t.Errorf("the session after rotations: %v", err)
			}

			// Ending a session makes its token refused everywhere, and leaves the other.
			if _, err := auth.EndSession(session, &authv1.EndSessionRequest{}); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				_, err := auth.GetSession(session, &authv1.GetSessionRequest{})
				if status.Code(err) == codes.Unauthenticated {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("an ended session still answers: %v", err)
				}
			}
			if _, err := ingest.ListBuilds(session, &ingestv1.ListBuildsRequest{}); err != nil {
				// Reads are public here: an ended session's token is simply not needed.
				t.Errorf("ListBuilds: %v", err)
			}
			other := withBearer(byToken.GetToken())
			if _, err := auth.GetSession(other, &authv1.GetSessionRequest{}); err != nil {
				t.Errorf("the other session after one ended: %v", err)
			}

			// Deleting the account needs its name typed again; then it is gone.
			if _, err := auth.DeleteOwnAccount(other, &authv1.DeleteOwnAccountRequest{ConfirmName: "alice"}); status.Code(err) != codes.InvalidArgument {
				t.Errorf("DeleteOwnAccount with another name: %v", err)
			}
			if _, err := auth.DeleteOwnAccount(other, &authv1.DeleteOwnAccountRequest{ConfirmName: "alice-2"}); err != nil {
				t.Fatal(err)
			}
			if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic("alice-2", second.GetApiToken())); a.Status != http.StatusUnauthorized {
				t.Errorf("the deleted user's token: %d %s", a.Status, a.Body)
			}
			if _, err := auth.GetSession(other, &authv1.GetSessionRequest{}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("the deleted user's session: %v", err)
			}

			// None of these RPCs has an HTTP route.
			for _, p := range []string{"/spackmon.auth.v1.AuthService/LoginWithIdentity", "/auth/login", "/api/v1/session"} {
				if a := srv.do(t, http.MethodPost, p, []byte(`{"provider":"github","subject":"1"}`), http.Header{"Content-Type": {"application/json"}}); a.Status != http.StatusNotFound && a.Status != http.StatusMethodNotAllowed {
					t.Errorf("POST %s: %d %s", p, a.Status, a.Body)
				}
			}
		})
	}
}

func basicValue(user, secret string) string { return basic(user, secret).Get("Authorization") }
