package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	authservice "github.com/spackmon/spackmon/services/auth/service"
	authstore "github.com/spackmon/spackmon/services/auth/store"
)

// defaultGatewayAddr is where roles without a listener of their own expect the gateway.
const defaultGatewayAddr = "127.0.0.1:8080"

// authMaxMessage bounds the auth service's messages: credentials and user names are small.
const authMaxMessage = 1 << 20

// keyFileCheck is how often a configured signing key file is checked for a new key.
const keyFileCheck = 30 * time.Second

func runAuth(ctx context.Context, args []string) error {
	var cfg authConfig
	if err := load("auth", &cfg, args, nil); err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := cfg.GatewayTrust.Validate(); err != nil {
		return err
	}
	if cfg.GatewaySecret == "" {
		log.Warn("no SPACKMON_GATEWAY_SECRET: the realm's failure limit counts every client behind the gateway as the gateway's address")
	}
	auth, guard, err := roleGuard(ctx, cfg.Auth, log, authservice.Methods)
	if err != nil {
		return err
	}
	guard.GatewaySecret = cfg.GatewaySecret
	keys, err := realmKeys(ctx, cfg.Realm, cfg.Database, log)
	if err != nil {
		return err
	}
	st, err := openAuthStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	s := grpcServer(ctx, config.Limits{MaxBodyBytes: authMaxMessage}, guard, map[string]server.Check{authv1.AuthService_ServiceDesc.ServiceName: st.Ping})
	authv1.RegisterAuthServiceServer(s, authservice.New(st, keys, authServiceConfig(auth, cfg.Realm, cfg.GatewayTrust, nil), log))
	return serveRole(ctx, "auth", log, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database),
		"realm", auth.AuthServer, "kid", keys.Current().KID())
}

func authServiceConfig(a config.Auth, r Realm, trust config.GatewayTrust, clock func() time.Time) authservice.Config {
	return authservice.Config{Issuer: a.Issuer(), Service: a.Service(), GatewaySecret: trust.GatewaySecret, Clock: clock,
		WebSessionTTL: time.Duration(r.WebSessionTTL)}
}

// newGatewaySecret is the secret of a process that runs the gateway and the auth service
// both: no one else needs to know it.
func newGatewaySecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// realmKeys is the key set tokens are signed with: the key file, re-read for rotation until
// ctx ends, or else a key generated once in the data dir, also with PostgreSQL (the key is
// the realm's secret, not data to share with every database user).
func realmKeys(ctx context.Context, r Realm, d config.Database, log *slog.Logger) (*signing.KeySet, error) {
	if r.SigningKeyFile == "" {
		path := filepath.Join(d.DataDir, signing.KeyFileName)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		_, statErr := os.Stat(path)
		k, err := signing.LoadOrGenerate(d.DataDir)
		if err != nil {
			return nil, err
		}
		what := "signing key loaded"
		if errors.Is(statErr, fs.ErrNotExist) {
			what = "signing key generated"
		}
		attrs := []any{"file", path, "kid", k.KID()}
		if d.URL != "" {
			attrs = append(attrs, "note", "every auth process on this database must sign with this one key: give each SPACKMON_AUTH_SIGNING_KEY_FILE")
		}
		log.Info(what, attrs...)
		return signing.NewKeySet(k, time.Duration(r.TokenTTL))
	}
	k, err := signing.LoadFile(r.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	keys, err := signing.NewKeySet(k, time.Duration(r.TokenTTL))
	if err != nil {
		return nil, err
	}
	// A new key signs once every verifier's background refresh has fetched it.
	ahead := authn.DefaultRefreshInterval + signing.Leeway
	go signing.WatchFile(ctx, r.SigningKeyFile, keys, keyFileCheck, ahead, func(err error) {
		log.Warn("signing key file unusable; keeping the current key", "file", r.SigningKeyFile, "error", err)
	})
	return keys, nil
}

// writeChallenge is the challenge of a write without a token under a (its defaults filled),
// checked so that Spack parses it back. The services and the gateway answer with this one.
func writeChallenge(a config.Auth) (authn.Challenge, error) {
	c := authn.Challenge{Realm: a.AuthServer, Service: a.Service(), Scope: signing.ScopeBuild}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// gatewayChallenge is what the gateway answers a write without a token with: the services'
// challenge, or nothing when writes need no token.
func gatewayChallenge(a config.Auth) (string, error) {
	if a.DisableAuth {
		return "", nil
	}
	c, err := writeChallenge(a)
	return c.String(), err
}

// newGuard is the interceptor pair of a role serving the services whose method tables are
// given, verifying tokens against the realm's JWKS, at the time clock tells (nil: the real one).
func newGuard(ctx context.Context, a config.Auth, log *slog.Logger, clock func() time.Time, tables ...map[string]authn.Requirement) (*authn.Guard, error) {
	challenge, err := writeChallenge(a)
	if err != nil {
		return nil, err
	}
	g := &authn.Guard{
		Methods:      map[string]authn.Requirement{},
		Challenge:    challenge,
		Disabled:     a.DisableAuth,
		PrivateReads: a.PrivateReads,
		Log:          log,
	}
	for _, t := range tables {
		maps.Copy(g.Methods, t)
	}
	opts := []authn.VerifierOption{authn.WithLogger(log)}
	if clock != nil {
		opts = append(opts, authn.WithClock(clock))
	}
	if a.RevocationsURL != "" {
		opts = append(opts, authn.WithRevocations(a.RevocationsURL, a.RevocationRefresh, 0))
	}
	v, err := authn.NewVerifier(ctx, a.JWKSURL, a.Issuer(), a.Service(), opts...)
	if err != nil {
		return nil, err
	}
	g.Verifier = v
	return g, nil
}

func authMode(a config.Auth) string {
	switch {
	case a.DisableAuth:
		return "disabled (writes are anonymous)"
	case a.PrivateReads:
		return "tokens for reads and writes"
	}
	return "tokens for writes"
}

// hintFirstUser tells a new user how to get credentials when there are none yet.
func hintFirstUser(ctx context.Context, log *slog.Logger, st authstore.Store, d config.Database, a config.Auth) {
	if a.DisableAuth {
		return
	}
	users, err := st.ListUsers(ctx)
	if err != nil || len(users) > 0 {
		return
	}
	where := "--data-dir " + d.DataDir
	if d.URL != "" {
		where = "with this SPACKMON_DATABASE_URL"
	}
	log.Info("no users yet: create one, then point Spack at this server",
		"create", selfCommand()+" user add NAME "+where,
		"export", "SPACKMON_USER=NAME SPACKMON_TOKEN=<the token it prints>",
		"spack", "spack install --monitor --monitor-host "+a.PublicURL+" PACKAGE")
}

// selfCommand is how the user ran this binary (./bin/spackmon after make build), so that a
// hint can be pasted as it is.
func selfCommand() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "spackmon"
	}
	return os.Args[0]
}
