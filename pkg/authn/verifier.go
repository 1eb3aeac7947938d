package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/spackmon/spackmon/pkg/signing"
)

// ErrInvalidToken wraps every reason a bearer token is refused: the caller answers 401 /
// UNAUTHENTICATED with error="invalid_token".
var ErrInvalidToken = errors.New("invalid token")

// Defaults of a Verifier.
const (
	DefaultRefreshInterval    = 5 * time.Minute
	DefaultUnknownKIDInterval = 30 * time.Second
	// DefaultFetchTimeout bounds one JWKS fetch, and how long a request with an unknown kid
	// may wait for the rate limiter plus that fetch.
	DefaultFetchTimeout = 10 * time.Second
)

// VerifierOption changes a default of NewVerifier.
type VerifierOption func(*verifierConfig)

type verifierConfig struct {
	refresh    time.Duration
	unknownKID time.Duration
	timeout    time.Duration
	client     *http.Client
	logger     *slog.Logger
	now        func() time.Time
	// revocationURL is empty when tokens are not checked against revocations.
	revocationURL        string
	revocationRefresh    time.Duration
	revocationStaleAfter time.Duration
	cacheSize            int
}

// WithRevocations makes the verifier refuse tokens the realm revoked: it fetches the
// realm's RevocationList from url every refresh and refuses every token as unverifiable
// (ErrRevocationsUnknown) once the last successful fetch is older than staleAfter. Tokens
// must then name their user id and API token. Zero durations keep the defaults.
func WithRevocations(url string, refresh, staleAfter time.Duration) VerifierOption {
	return func(c *verifierConfig) {
		c.revocationURL = url
		if refresh > 0 {
			c.revocationRefresh = refresh
		}
		if staleAfter > 0 {
			c.revocationStaleAfter = staleAfter
		}
	}
}

// WithRefreshInterval sets how often the JWKS is fetched in the background.
func WithRefreshInterval(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.refresh = d }
}

// WithUnknownKIDInterval sets the least time between two fetches caused by tokens whose kid
// is not in the cached set. A token arriving sooner is refused without a fetch.
func WithUnknownKIDInterval(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.unknownKID = d }
}

// WithFetchTimeout bounds one JWKS fetch.
func WithFetchTimeout(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.timeout = d }
}

// WithHTTPClient sets the client the JWKS is fetched with.
func WithHTTPClient(hc *http.Client) VerifierOption {
	return func(c *verifierConfig) { c.client = hc }
}

// WithLogger sets where failed fetches are logged.
func WithLogger(l *slog.Logger) VerifierOption {
	return func(c *verifierConfig) { c.logger = l }
}

// WithClock sets the time a token's expiry and not-before are checked against, so that a
// test can move past a token's lifetime without waiting it out. The JWKS and revocation
// refreshes keep the real clock: they pace network fetches.
func WithClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) { c.now = now }
}

// Verifier checks realm tokens against the keys of a JWKS URL. The set is fetched at start,
// refreshed in the background and, rate limited, when a token names an unknown kid; a failed
// fetch keeps the last good set. It is safe for concurrent use.
type Verifier struct {
	// ready is closed once the first fetch was tried; kf and startErr are set by then.
	ready    chan struct{}
	kf       keyfunc.Keyfunc
	startErr error
	parser   *jwt.Parser
	// unknown admits one lookup of an unknown kid at a time: the tokens of a freshly rotated
	// key that arrive together wait for the one fetch instead of being refused by its rate
	// limit.
	unknown chan struct{}
	// revoked is nil when revocations are not checked.
	revoked *revocations
	// cache is nil when every token is verified.
	cache *tokenCache
	now   func() time.Time
}

// Principal is the caller a valid token names.
type Principal struct {
	// Name is the token's subject, the username.
	Name string
	// Claims are the verified claims, access included.
	Claims *signing.Claims
}

// Identity is the caller as services see it.
func (p *Principal) Identity() Identity {
	id := Identity{Name: p.Name, UserID: p.Claims.UserID, Admin: p.Claims.CanAdmin(),
		APITokenID: p.Claims.APITokenID, WebSession: p.Claims.IsWebSession()}
	if p.Claims.ExpiresAt != nil {
		id.ExpiresAt = p.Claims.ExpiresAt.Time
	}
	return id
}

// Allows reports whether the token grants action on resource typ/name.
func (p *Principal) Allows(typ, name, action string) bool {
	return p != nil && p.Claims.Allows(typ, name, action)
}

// CanBuild reports whether the token carries the "build" scope every /ms1 write needs.
func (p *Principal) CanBuild() bool { return p != nil && p.Claims.CanBuild() }

// NewVerifier returns a verifier of tokens issued by issuer for audience, signed by a key of
// the JWKS at jwksURL. A first fetch that fails is logged, not returned: the realm may start
// after the services that trust it. The background refresh ends with ctx.
// Verify waits for the first fetch.
func NewVerifier(ctx context.Context, jwksURL, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	if issuer == "" || audience == "" {
		return nil, errors.New("authn: verifier needs an issuer and an audience")
	}
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("authn: JWKS URL %q is not an absolute http(s) URL", jwksURL)
	}
	cfg := verifierConfig{
		refresh:    DefaultRefreshInterval,
		unknownKID: DefaultUnknownKIDInterval,
		timeout:    DefaultFetchTimeout,
		logger:     slog.Default(),
		now:        time.Now,

		revocationRefresh:    DefaultRevocationRefresh,
		revocationStaleAfter: DefaultRevocationStaleAfter,
		cacheSize:            DefaultTokenCacheSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{Timeout: cfg.timeout}
	}
	override := keyfunc.Override{
		Client:           cfg.client,
		HTTPTimeout:      cfg.timeout,
		RefreshInterval:  cfg.refresh,
		RateLimitWaitMax: cfg.timeout,
		// Burst 1: the first unknown kid fetches at once, later ones at most once per interval.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.unknownKID), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(fetch context.Context, err error) {
				// fetch is always done by now (its timeout is cancelled first); ctx ending
				// means the process is stopping and cut the refresh, which is no failure.
				if ctx.Err() != nil {
					return
				}
				cfg.logger.WarnContext(fetch, "JWKS fetch failed; keeping the last good key set", "url", u, "error", err)
			}
		},
	}
	v := &Verifier{
		ready:   make(chan struct{}),
		unknown: make(chan struct{}, 1),
		cache:   newTokenCache(cfg.cacheSize),
		now:     cfg.now,
		parser: jwt.NewParser(
			jwt.WithValidMethods(signing.Algorithms()),
			jwt.WithAudience(audience),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(signing.Leeway),
			jwt.WithTimeFunc(cfg.now),
		),
	}
	if cfg.revocationURL != "" {
		if u, err := url.Parse(cfg.revocationURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("authn: revocation URL %q is not an absolute http(s) URL", cfg.revocationURL)
		}
		v.revoked = &revocations{url: cfg.revocationURL, client: cfg.client, refresh: cfg.revocationRefresh,
			staleAfter: cfg.revocationStaleAfter, log: cfg.logger, ready: make(chan struct{})}
		go v.revoked.run(ctx)
	}
	// The first fetch runs in the background: in one process the JWKS may be served by the
	// very server whose start waits for this verifier.
	go func() {
		defer close(v.ready)
		v.kf, v.startErr = keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, override)
		if v.startErr != nil {
			v.startErr = fmt.Errorf("authn: JWKS client: %w", v.startErr)
		}
	}()
	return v, nil
}

// Verify checks raw, the bearer token without "Bearer ", and returns its caller. Every
// refusal wraps ErrInvalidToken. ctx bounds a fetch caused by an unknown kid.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	select {
	case <-v.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if v.startErr != nil {
		return nil, v.startErr
	}
	c, err := v.verified(ctx, raw)
	if err != nil {
		return nil, err
	}
	if v.revoked != nil {
		if err := v.revoked.check(ctx, c); err != nil {
			return nil, err
		}
	}
	return &Principal{Name: c.Subject, Claims: c}, nil
}

// verified returns the claims of a token whose signature, issuer, audience and lifetime
// hold, from the cache when the token was verified before, its key is still published and
// it has not expired since. The claims are shared between callers and never changed.
func (v *Verifier) verified(ctx context.Context, raw string) (*signing.Claims, error) {
	if e, ok := v.cache.get(raw, v.now()); ok && v.known(ctx, e.kid) {
		return e.claims, nil
	}
	c := new(signing.Claims)
	tok, err := v.parser.ParseWithClaims(raw, c, v.keyfunc(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	kid, _ := tok.Header["kid"].(string)
	v.cache.put(raw, kid, c, v.now())
	return c, nil
}

// keyfunc finds the key by kid, which is required (without one keyfunc would try every key),
// and checks that the key's type fits the algorithm the token claims.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	lookup := v.kf.KeyfuncCtx(ctx)
	return func(t *jwt.Token) (any, error) {
		// RFC 7515 §4.1.11: a token naming extensions the verifier must understand is
		// refused; this one understands none.
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("token header has crit extensions")
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token header has no kid")
		}
		if !v.known(ctx, kid) {
			select {
			case v.unknown <- struct{}{}:
				defer func() { <-v.unknown }()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		key, err := lookup(t)
		if err != nil {
			return nil, err
		}
		switch t.Method.Alg() {
		case signing.AlgEdDSA:
			if _, ok := key.(ed25519.PublicKey); ok {
				return key, nil
			}
		case signing.AlgES256:
			if k, ok := key.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
				return key, nil
			}
		}
		return nil, fmt.Errorf("key %T does not fit algorithm %s", key, t.Method.Alg())
	}
}

// known reports whether kid is in the cached set, without fetching.
func (v *Verifier) known(ctx context.Context, kid string) bool {
	all, err := v.kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return false
	}
	for _, k := range all {
		if k.Marshal().KID == kid {
			return true
		}
	}
	return false
}
