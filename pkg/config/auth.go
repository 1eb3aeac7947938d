package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Auth is how a role that verifies tokens names the realm and finds its keys.
type Auth struct {
	DisableAuth  bool   `envconfig:"DISABLE_AUTH" default:"false" desc:"true: writes need no token and belong to the user anonymous"`
	PrivateReads bool   `envconfig:"PRIVATE_READS" default:"false" desc:"true: reads need a token too"`
	PublicURL    string `envconfig:"PUBLIC_URL" desc:"URL clients reach the gateway at; the token audience (default http://ADDR of the gateway)"`
	AuthServer   string `envconfig:"AUTH_SERVER" desc:"realm URL clients fetch tokens from, and their issuer (default PUBLIC_URL/auth/token/)"`
	JWKSURL      string `envconfig:"JWKS_URL" desc:"where the realm's public keys are fetched (default PUBLIC_URL/.well-known/jwks.json)"`
	// RevocationsURL is where the realm's revocations are fetched; empty with an external
	// realm (AUTH_SERVER elsewhere), whose tokens are then not checked for revocation.
	RevocationsURL string `envconfig:"REVOCATIONS_URL" desc:"where the realm's token revocations are fetched (default: spackmon-revocations.json beside the JWKS for this realm; none for an external one)"`
	// RevocationRefresh, when set, replaces how often revocations are fetched (tests).
	RevocationRefresh time.Duration `ignored:"true"`
}

// WithDefaults fills what is unset, the public URL from the gateway's address, and checks
// that every URL is absolute.
func (a Auth) WithDefaults(gatewayAddr string) (Auth, error) {
	if a.PublicURL == "" {
		a.PublicURL = "http://" + Reachable(gatewayAddr)
	}
	a.PublicURL = strings.TrimRight(a.PublicURL, "/")
	if a.AuthServer == "" {
		a.AuthServer = a.PublicURL + "/auth/token/"
	}
	if a.JWKSURL == "" {
		a.JWKSURL = a.PublicURL + "/.well-known/jwks.json"
	}
	// Only this realm publishes revocations; an external one would answer 404 forever and
	// every token would be refused.
	if a.RevocationsURL == "" && a.AuthServer == a.PublicURL+"/auth/token/" {
		if jwks, err := url.Parse(a.JWKSURL); err == nil {
			a.RevocationsURL = jwks.ResolveReference(&url.URL{Path: "spackmon-revocations.json"}).String()
		}
	}
	for _, u := range []struct{ name, value string }{{"PUBLIC_URL", a.PublicURL}, {"AUTH_SERVER", a.AuthServer}, {"JWKS_URL", a.JWKSURL}, {"REVOCATIONS_URL", a.RevocationsURL}} {
		if u.value == "" && u.name == "REVOCATIONS_URL" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return a, fmt.Errorf("configuration: %s_%s %q: want an absolute http(s) URL", Prefix, u.name, u.value)
		}
	}
	return a, nil
}

// Service is the audience tokens must be issued for.
func (a Auth) Service() string { return a.PublicURL }

// Issuer is the iss tokens must carry: the realm URL.
func (a Auth) Issuer() string { return a.AuthServer }

// Reachable turns a listen address into one a client can dial: an unspecified host becomes
// the loopback address.
func Reachable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Seconds is a duration written as seconds ("6000") or as a Go duration ("100m").
type Seconds time.Duration

// Decode implements envconfig.Decoder.
func (s *Seconds) Decode(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return fmt.Errorf("%q: want a positive number of seconds", v)
		}
		*s = Seconds(time.Duration(n) * time.Second)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want seconds (6000) or a duration (100m)", v)
	}
	*s = Seconds(d)
	return nil
}

// MinGatewaySecret is the shortest gateway secret accepted, in bytes.
const MinGatewaySecret = 32

// GatewayTrust is the secret the gateway shows the auth service so that the address it
// forwards (x-forwarded-for) is believed; from any other caller that metadata is ignored.
type GatewayTrust struct {
	GatewaySecret string `envconfig:"GATEWAY_SECRET" desc:"gateway and auth roles: shared secret (32+ bytes) that makes the auth role believe the client address the gateway forwards; serve makes its own"`
}

// Validate refuses a secret too short to resist guessing.
func (g GatewayTrust) Validate() error {
	if g.GatewaySecret != "" && len(g.GatewaySecret) < MinGatewaySecret {
		return fmt.Errorf("configuration: %s_GATEWAY_SECRET: want at least %d bytes", Prefix, MinGatewaySecret)
	}
	return nil
}
