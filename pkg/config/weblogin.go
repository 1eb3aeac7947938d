package config

import (
	"fmt"
	"net/url"
)

// WebLogin is how people log in to the web pages: GitHub, an OpenID Connect provider, or
// neither (the form that takes a user name and API token is always there).
type WebLogin struct {
	GitHubClientID     string `envconfig:"GITHUB_CLIENT_ID" desc:"gateway: client id of a GitHub OAuth app; with GITHUB_CLIENT_SECRET, offers Log in with GitHub (callback PUBLIC_URL/login/github/callback)"`
	GitHubClientSecret string `envconfig:"GITHUB_CLIENT_SECRET" desc:"gateway: client secret of that GitHub OAuth app"`
	GitHubURL          string `envconfig:"GITHUB_URL" default:"https://github.com" desc:"gateway: GitHub's web URL (GitHub Enterprise, tests)"`
	GitHubAPIURL       string `envconfig:"GITHUB_API_URL" default:"https://api.github.com" desc:"gateway: GitHub's API URL (GitHub Enterprise, tests)"`
	OIDCIssuer         string `envconfig:"OIDC_ISSUER" desc:"gateway: OpenID Connect issuer URL (Keycloak, Dex, Okta...); offers Log in with it (callback PUBLIC_URL/login/oidc/callback)"`
	OIDCClientID       string `envconfig:"OIDC_CLIENT_ID" desc:"gateway: client id registered with the OpenID Connect issuer"`
	OIDCClientSecret   string `envconfig:"OIDC_CLIENT_SECRET" desc:"gateway: client secret registered with the OpenID Connect issuer"`
	OIDCName           string `envconfig:"OIDC_NAME" default:"single sign-on" desc:"gateway: what the login page calls the OpenID Connect provider"`
}

// GitHub reports whether GitHub login is configured.
func (w WebLogin) GitHub() bool { return w.GitHubClientID != "" }

// OIDC reports whether OpenID Connect login is configured.
func (w WebLogin) OIDC() bool { return w.OIDCIssuer != "" }

// Validate refuses half a provider and URLs that are not absolute.
func (w WebLogin) Validate() error {
	if (w.GitHubClientID == "") != (w.GitHubClientSecret == "") {
		return fmt.Errorf("configuration: %s_GITHUB_CLIENT_ID and %s_GITHUB_CLIENT_SECRET go together", Prefix, Prefix)
	}
	if w.OIDC() && w.OIDCClientID == "" {
		return fmt.Errorf("configuration: %s_OIDC_ISSUER needs %s_OIDC_CLIENT_ID", Prefix, Prefix)
	}
	for _, u := range []struct{ name, value string }{{"GITHUB_URL", w.GitHubURL}, {"GITHUB_API_URL", w.GitHubAPIURL}, {"OIDC_ISSUER", w.OIDCIssuer}} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("configuration: %s_%s %q: want an absolute http(s) URL", Prefix, u.name, u.value)
		}
	}
	return nil
}
