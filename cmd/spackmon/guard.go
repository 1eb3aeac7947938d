package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/signing"
)

// defaultGatewayAddr is where roles without a listener of their own expect the gateway.
const defaultGatewayAddr = "127.0.0.1:8080"

// roleGuard completes a service role's auth settings and makes its guard over the tables.
func roleGuard(ctx context.Context, a config.Auth, log *slog.Logger, tables ...map[string]authn.Requirement) (config.Auth, *authn.Guard, error) {
	a, err := a.WithDefaults(defaultGatewayAddr)
	if err != nil {
		return a, nil, err
	}
	g, err := newGuard(ctx, a, log, nil, tables...)
	return a, g, err
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

func authMode(a config.Auth) string {
	switch {
	case a.DisableAuth:
		return "disabled (writes are anonymous)"
	case a.PrivateReads:
		return "tokens for reads and writes"
	}
	return "tokens for writes"
}
