package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
)

// Provider names as the login's URLs and the login cookie have them.
const (
	providerGitHub = "github"
	providerOIDC   = "oidc"
)

// loginCookie carries what the callback checks between the redirect to a provider and its
// way back: the state, the PKCE verifier, the OIDC nonce and where to go next.
const loginCookie = "spackmon_login"

// loginAttemptTTL is how long someone has to log in at the provider.
const loginAttemptTTL = 10 * time.Minute

// maxProviderAnswer bounds what is read of a provider's answer.
const maxProviderAnswer = 1 << 20

// loginAttempt is the login cookie's content.
type loginAttempt struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n,omitempty"`
	Next     string `json:"x"`
}

// providerIdentity is what a provider vouched for.
type providerIdentity = authv1.LoginWithIdentityRequest

// providers are the configured identity providers.
type providers struct {
	opts   LoginOptions
	client *http.Client
	github *oauth2.Config

	// oidc is discovered on first use, not at start: the issuer may be down when the gateway
	// starts, and the other pages must not wait for it.
	oidcMu       sync.Mutex
	oidcProvider *oidc.Provider
}

func newProviders(opts LoginOptions) *providers {
	p := &providers{opts: opts, client: opts.HTTPClient}
	if p.client == nil {
		p.client = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.GitHub() {
		base := strings.TrimRight(opts.GitHubURL, "/")
		p.github = &oauth2.Config{
			ClientID:     opts.GitHubClientID,
			ClientSecret: opts.GitHubClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: base + "/login/oauth/authorize", TokenURL: base + "/login/oauth/access_token"},
			RedirectURL:  opts.PublicURL + "/login/github/callback",
			Scopes:       []string{"read:user", "user:email"},
		}
	}
	return p
}

// context is ctx with the client the oauth2 and oidc packages use for their requests.
func (p *providers) context(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.client)
}

func (p *providers) oidcConfig(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	p.oidcMu.Lock()
	defer p.oidcMu.Unlock()
	if p.oidcProvider == nil {
		prov, err := oidc.NewProvider(p.context(ctx), p.opts.OIDCIssuer)
		if err != nil {
			return nil, nil, fmt.Errorf("OpenID Connect discovery of %s: %w", p.opts.OIDCIssuer, err)
		}
		p.oidcProvider = prov
	}
	return p.oidcProvider, &oauth2.Config{
		ClientID:     p.opts.OIDCClientID,
		ClientSecret: p.opts.OIDCClientSecret,
		Endpoint:     p.oidcProvider.Endpoint(),
		RedirectURL:  p.opts.PublicURL + "/login/oidc/callback",
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}, nil
}

// start returns the provider's authorization URL for a new attempt.
func (p *providers) start(ctx context.Context, provider, next string) (string, loginAttempt, error) {
	a := loginAttempt{Provider: provider, State: randomString(), Verifier: oauth2.GenerateVerifier(), Next: next}
	switch provider {
	case providerGitHub:
		return p.github.AuthCodeURL(a.State, oauth2.S256ChallengeOption(a.Verifier)), a, nil
	case providerOIDC:
		_, cfg, err := p.oidcConfig(ctx)
		if err != nil {
			return "", a, err
		}
		a.Nonce = randomString()
		return cfg.AuthCodeURL(a.State, oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier)), a, nil
	}
	return "", a, errors.New("unknown provider")
}

// finish exchanges the code of a provider's callback and returns whom it vouches for.
func (p *providers) finish(ctx context.Context, a loginAttempt, code string) (*providerIdentity, error) {
	ctx = p.context(ctx)
	switch a.Provider {
	case providerGitHub:
		tok, err := p.github.Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
		if err != nil {
			return nil, fmt.Errorf("GitHub code exchange: %w", err)
		}
		return p.githubUser(ctx, tok)
	case providerOIDC:
		prov, cfg, err := p.oidcConfig(ctx)
		if err != nil {
			return nil, err
		}
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
		if err != nil {
			return nil, fmt.Errorf("OpenID Connect code exchange: %w", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if raw == "" {
			return nil, errors.New("the OpenID Connect provider sent no ID token")
		}
		idTok, err := prov.VerifierContext(ctx, &oidc.Config{ClientID: p.opts.OIDCClientID}).Verify(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("ID token: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(idTok.Nonce), []byte(a.Nonce)) != 1 {
			return nil, errors.New("ID token: wrong nonce")
		}
		var claims struct {
			Email             string `json:"email"`
			EmailVerified     any    `json:"email_verified"`
			PreferredUsername string `json:"preferred_username"`
		}
		if err := idTok.Claims(&claims); err != nil {
			return nil, fmt.Errorf("ID token claims: %w", err)
		}
		// Some providers send the boolean as a string.
		verified := claims.EmailVerified == true || claims.EmailVerified == "true"
		return &providerIdentity{Provider: p.opts.OIDCIssuer, Subject: idTok.Subject, Email: claims.Email,
			EmailVerified: verified, PreferredName: claims.PreferredUsername}, nil
	}
	return nil, errors.New("unknown provider")
}

// githubUser asks GitHub's API who the token belongs to, and for the account's primary
// address when GitHub has verified it.
func (p *providers) githubUser(ctx context.Context, tok *oauth2.Token) (*providerIdentity, error) {
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Email string `json:"email"`
	}
	if err := p.githubGet(ctx, tok, "/user", &user); err != nil {
		return nil, err
	}
	if user.ID <= 0 {
		return nil, errors.New("GitHub named no user id")
	}
	id := &providerIdentity{Provider: providerGitHub, Subject: strconv.FormatInt(user.ID, 10), PreferredName: user.Login, Email: user.Email}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := p.githubGet(ctx, tok, "/user/emails", &emails); err != nil {
		return nil, err
	}
	for _, e := range emails {
		if e.Primary && e.Verified {
			id.Email, id.EmailVerified = e.Email, true
		}
	}
	return id, nil
}

func (p *providers) githubGet(ctx context.Context, tok *oauth2.Token, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(p.opts.GitHubAPIURL, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	tok.SetAuthHeader(req)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("GitHub %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GitHub %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxProviderAnswer)).Decode(into); err != nil {
		return fmt.Errorf("GitHub %s: %w", path, err)
	}
	return nil
}

func randomString() string { return base64.RawURLEncoding.EncodeToString(randomBytes()) }

func randomBytes() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func encodeAttempt(a loginAttempt) string {
	b, _ := json.Marshal(a)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAttempt(s string) (loginAttempt, bool) {
	var a loginAttempt
	if len(s) > maxCookieBytes {
		return a, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &a) != nil || a.State == "" || a.Verifier == "" {
		return loginAttempt{}, false
	}
	return a, true
}
