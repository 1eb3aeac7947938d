package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/apitoken"
)

// lastLine is what spackmon user add and rotate print last: the API token alone.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// The user commands on the store of a running server, both stores.
func TestUserCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		out, err := userOn(t, srv, "add", "dana", "--admin")
		if err != nil {
			t.Fatal(err)
		}
		tok := lastLine(out)
		if _, err := apitoken.Parse(tok); err != nil {
			t.Fatalf("last line %q is not an API token: %v", tok, err)
		}
		if _, err := userOn(t, srv, "add", "dana"); err == nil || !strings.Contains(err.Error(), " user rotate dana' gives it a new API token") {
			t.Errorf("a second dana: %v, want the hint to rotate", err)
		}
		srv.token(t, "dana", tok, "?scope=admin")

		out, err = userOn(t, srv, "list")
		if err != nil || !strings.Contains(out, "alice") || !strings.Contains(out, "dana") || strings.Contains(out, tok) {
			t.Errorf("list: %v\n%s", err, out)
		}
		if _, err := userOn(t, srv, "disable", "dana"); err != nil {
			t.Fatal(err)
		}
		if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic("dana", tok)); a.Status != http.StatusUnauthorized {
			t.Errorf("disabled dana got %d", a.Status)
		}
		if _, err := userOn(t, srv, "enable", "dana"); err != nil {
			t.Fatal(err)
		}
		srv.token(t, "dana", tok, "")
		out, err = userOn(t, srv, "rotate", "dana")
		if err != nil {
			t.Fatal(err)
		}
		if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic("dana", tok)); a.Status != http.StatusUnauthorized {
			t.Errorf("rotated token got %d", a.Status)
		}
		rotated := lastLine(out)
		danaToken := srv.token(t, "dana", rotated, "")
		// dana's build shows as owned by a tombstone name once dana is deleted: a later
		// dana must not appear to own it.
		wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(danaToken)), http.StatusCreated, "")
		build := num(t, path(wantEnvelope(t, srv.postAs(t, "/ms1/builds/new/", buildEnv, bearerHeader(danaToken)), http.StatusCreated, ""), "data", "build", "build_id"))
		out, err = userOn(t, srv, "delete", "dana")
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := path(srv.get(t, fmt.Sprintf("/api/v1/builds/%d", build)).JSON(t), "owner").(string)
		if !strings.HasPrefix(owner, "deleted-user-") || !strings.Contains(out, "builds now shown as owned by "+owner+": 1") {
			t.Errorf("deleted dana's build is owned by %q; the command said %q", owner, out)
		}
		if a := srv.do(t, http.MethodGet, "/auth/token/", nil, basic("dana", rotated)); a.Status != http.StatusUnauthorized {
			t.Errorf("deleted dana got %d", a.Status)
		}
		for _, args := range [][]string{{"add"}, {"add", "anonymous"}, {"add", "a", "b"}, {"rotate"}, {"list", "x"}, {"frobnicate", "x"}, {"rotate", "alice", "--admin"}, {"delete", "nobody"}} {
			if _, err := userOn(t, srv, args...); err == nil {
				t.Errorf("user %v succeeded", args)
			}
		}
	})
}

// User administration over gRPC needs a token with the admin scope.
func TestUserAdministrationOverGRPC(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	root, rootToken := srv.addUser(t, "root", true)
	conn, err := server.Dial(srv.GRPCAddr, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := authv1.NewAuthServiceClient(conn)
	as := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}
	req := &authv1.CreateUserRequest{Name: "erin"}
	if _, err := client.CreateUser(context.Background(), req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: %v", err)
	}
	if _, err := client.CreateUser(as(srv.bearer), req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("with a build token: %v", err)
	}
	// root asked only for build: no admin grant, even for an admin.
	if _, err := client.CreateUser(as(srv.token(t, root, rootToken, "")), req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("with root's build token: %v", err)
	}
	admin := as(srv.token(t, root, rootToken, "?scope=admin"))
	created, err := client.CreateUser(admin, req)
	if err != nil {
		t.Fatal(err)
	}
	srv.token(t, "erin", created.GetApiToken(), "")
	users, err := client.ListUsers(admin, &authv1.ListUsersRequest{})
	if err != nil || len(users.GetUsers()) != 3 {
		t.Errorf("list: %v %v", users, err)
	}
	rotated, err := client.RotateToken(admin, &authv1.RotateTokenRequest{Name: "erin"})
	if err != nil || rotated.GetApiToken() == created.GetApiToken() {
		t.Fatalf("rotate: %v", err)
	}
	if u, err := client.SetUserDisabled(admin, &authv1.SetUserDisabledRequest{Name: "erin", Disabled: true}); err != nil || !u.GetDisabled() {
		t.Errorf("disable: %v %v", u, err)
	}
	if _, err := client.DeleteUser(admin, &authv1.DeleteUserRequest{Name: "erin"}); err != nil {
		t.Error(err)
	}
	if _, err := client.DeleteUser(admin, &authv1.DeleteUserRequest{Name: "erin"}); status.Code(err) != codes.NotFound {
		t.Errorf("deleting again: %v", err)
	}
	if _, err := client.CreateUser(admin, &authv1.CreateUserRequest{Name: strings.Repeat("x", 500)}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("overlong name: %v", err)
	}
	if _, err := client.CreateUser(admin, &authv1.CreateUserRequest{Name: "anonymous"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("the reserved name: %v", err)
	}
	// An admin token outlives its user's disable, but not for administration.
	if _, err := userOn(t, srv, "disable", root); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListUsers(admin, &authv1.ListUsersRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a disabled admin's token: %v", err)
	}
	// The token and JWKS methods are public over gRPC as over HTTP.
	if _, err := client.GetJWKS(context.Background(), &authv1.GetJWKSRequest{}); err != nil {
		t.Error(err)
	}
	md := metadata.Pairs("authorization", basic(srv.user, srv.apiToken).Get("Authorization"))
	tok, err := client.IssueToken(metadata.NewOutgoingContext(context.Background(), md), &authv1.IssueTokenRequest{})
	if err != nil || tok.GetToken() == "" || tok.GetExpiresIn() != int64(signing.DefaultTTL.Seconds()) {
		t.Errorf("IssueToken: %v %v", tok, err)
	}
}

// On PostgreSQL, user delete leaves the ingest schema to the migration: a database the
// services never ran on keeps no ingest tables, and the delete works.
func TestUserDeleteLeavesIngestSchema(t *testing.T) {
	url := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	srv := &testServer{db: config.Database{URL: url, DataDir: t.TempDir()}}
	if _, err := userOn(t, srv, "add", "bob"); err != nil {
		t.Fatal(err)
	}
	out, err := userOn(t, srv, "delete", "bob")
	if err != nil || !strings.Contains(out, "deleted user bob") {
		t.Fatalf("delete: %v %q", err, out)
	}
	pool, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var builds bool
	if err := pool.QueryRow(context.Background(), "SELECT to_regclass('builds') IS NOT NULL").Scan(&builds); err != nil || builds {
		t.Errorf("user delete made the ingest tables: %v, %v", builds, err)
	}
}
