package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/server"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	authservice "github.com/spackmon/spackmon/services/auth/service"
)

// authMaxMessage bounds the auth service's messages: credentials and user names are small.
const authMaxMessage = 1 << 20

// keyFileCheck is how often a configured signing key file is checked for a new key.
const keyFileCheck = 30 * time.Second

// runAuth serves the auth gRPC service: the realm, its users, API tokens and signing keys.
func runAuth(ctx context.Context, args []string) error {
	var cfg authConfig
	b, err := bootRole(ctx, "auth", &cfg, &cfg.Log, &cfg.Process, args, nil)
	if err != nil {
		return err
	}
	defer b.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := cfg.GatewayTrust.Validate(); err != nil {
		return err
	}
	if cfg.GatewaySecret == "" {
		b.log.Warn("no SPACKMON_GATEWAY_SECRET: the realm's failure limit counts every client behind the gateway as the gateway's address")
	}
	auth, guard, err := roleGuard(ctx, cfg.Auth, b.log, authservice.Methods)
	if err != nil {
		return err
	}
	guard.GatewaySecret = cfg.GatewaySecret
	keys, err := realmKeys(ctx, cfg.Realm, cfg.Database, b.log)
	if err != nil {
		return err
	}
	st, err := openAuthStore(ctx, cfg.Database, cfg.URL == "")
	if err != nil {
		return err
	}
	defer st.Close()
	s := grpcServer(ctx, config.Limits{MaxBodyBytes: authMaxMessage}, guard, map[string]server.Check{authv1.AuthService_ServiceDesc.ServiceName: st.Ping})
	authv1.RegisterAuthServiceServer(s, authservice.New(st, keys, authServiceConfig(auth, cfg.Realm, cfg.GatewayTrust, nil), b.log))
	return b.serveService(ctx, cfg.GRPCAddr, cfg.Telemetry, s, guard, "store", storeName(cfg.Database),
		"realm", auth.AuthServer, "kid", keys.Current().KID())
}

func authServiceConfig(a config.Auth, r Realm, trust config.GatewayTrust, clock func() time.Time) authservice.Config {
	return authservice.Config{Issuer: a.Issuer(), Service: a.Service(), GatewaySecret: trust.GatewaySecret, Clock: clock,
		WebSessionTTL: time.Duration(r.WebSessionTTL)}
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
