// Package gateway is spackmon's only HTTP edge: a grpc-gateway mux that serves the Spack
// Monitor protocol (/ms1) and the read API (/api/v1) from the gRPC services. It keeps no
// state and decides no auth itself; the services do. It only turns away, unread, protocol
// writes that carry no token at all, with the challenge the services would give.
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	"github.com/spackmon/spackmon/gateway/ui"
	"github.com/spackmon/spackmon/pkg/budget"
	"github.com/spackmon/spackmon/pkg/telemetry"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Config is what the gateway needs to know besides its backends.
type Config struct {
	// APIPrefix is the protocol's path prefix without slashes ("ms1").
	APIPrefix    string
	MaxBodyBytes int64
	// InflightBodyBytes bounds the memory of the request bodies held at once, counted as
	// their copies (0: no bound).
	InflightBodyBytes int64
	// InflightWait is how long a body that does not fit in InflightBodyBytes waits, unread,
	// before it is refused with 503 (0: refused at once).
	InflightWait time.Duration
	// Environment is shown in the service info (for example "production").
	Environment string
	// Metrics, when set, is served on /metrics.
	Metrics http.Handler
	// Challenge, when set, is the Www-Authenticate value of a protocol write that carries no
	// bearer token at all: the gateway answers such a write itself, its body dropped without
	// reaching the services. The services decide every other case.
	Challenge string
	// GatewaySecret, when set, is shown to the auth service with every call to it, so that it
	// believes the client address the gateway forwards.
	GatewaySecret string
	// Pages adjusts how the web UI's pages call the services.
	Pages ui.Options
}

// Gateway is the HTTP handler.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	stalls  stalls
	mux     *runtime.ServeMux
	handler http.Handler
	// backends follow each backing service's health.
	backends []*backendHealth
	started  time.Time
	// pages serves the web UI: every path outside the JSON routes' prefixes.
	pages *ui.UI
	// ingest and auth serve the CDash pages, which the generated handlers do not.
	ingest ingestv1.IngestServiceClient
	auth   authv1.AuthServiceClient
	// watch streams builds' changes as Server-Sent Events; stopping ends the streams when
	// the process drains, since they would otherwise hold the shutdown until its timeout.
	watch ingestv1.BuildWatchServiceClient
	// phases takes phase updates as streams (servePhaseUpdate).
	phases    ingestv1.PhaseStreamServiceClient
	stopping  chan struct{}
	closeOnce sync.Once
	// draining is set when the process is stopping: readiness fails from then on. (In
	// Kubernetes the pod has left the Service's endpoints by then: its preStop sleep gave
	// the proxies time to hear of it.)
	draining atomic.Bool
	// inflight bounds the bodies of writes in flight; nil when unbounded.
	inflight *budget.Bytes
}

// reservedPrefixes are first path segments the gateway serves itself; jsonPrefixes those
// of them that answer JSON. Every other path is a page of the web UI.
var (
	reservedPrefixes = map[string]bool{"api": true, "auth": true, ".well-known": true, "metrics": true,
		"builds": true, "specs": true, "matrix": true, "analysis": true, "static": true,
		"login": true, "logout": true, "token": true, "profile": true, "healthz": true, "readyz": true}
	jsonPrefixes = map[string]bool{"api": true, "auth": true, ".well-known": true, "metrics": true, "ms1": true}
)

// Validate checks the settings New takes, so that a process refuses bad ones before it
// says it serves.
func (c Config) Validate() error {
	c.APIPrefix = strings.Trim(c.APIPrefix, "/")
	if c.APIPrefix == "" || reservedPrefixes[c.APIPrefix] || strings.ContainsAny(c.APIPrefix, "/?#%") || c.APIPrefix != url.PathEscape(c.APIPrefix) {
		return fmt.Errorf("API prefix %q: want one path segment such as ms1, not one the gateway serves itself (api, auth, .well-known, metrics, or a page's)", c.APIPrefix)
	}
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("maximum body size %d: want a positive number of bytes", c.MaxBodyBytes)
	}
	if c.InflightWait < 0 {
		return fmt.Errorf("wait for room for a body %v: want a duration, or 0 to refuse at once", c.InflightWait)
	}
	if c.InflightBodyBytes < 0 {
		return fmt.Errorf("body bytes in flight %d: want a number of bytes, or 0 for no bound", c.InflightBodyBytes)
	}
	return nil
}

// Backends are the connections to the services the gateway maps.
type Backends struct {
	Ingest *grpc.ClientConn
	// Auth is nil when the realm is external and no auth service is deployed.
	Auth     *grpc.ClientConn
	Analysis *grpc.ClientConn
}

// New maps the services reached through the backends onto HTTP and follows their health
// until ctx ends.
func New(ctx context.Context, cfg Config, log *slog.Logger, b Backends) (*Gateway, error) {
	cfg.APIPrefix = strings.Trim(cfg.APIPrefix, "/")
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var authConn grpc.ClientConnInterface = externalRealm{}
	backends := []*backendHealth{
		newBackendHealth(ingestv1.IngestService_ServiceDesc.ServiceName, b.Ingest, log),
		newBackendHealth(analysisv1.AnalysisService_ServiceDesc.ServiceName, b.Analysis, log),
	}
	if b.Auth != nil {
		authConn = b.Auth
		backends = append(backends, newBackendHealth(authv1.AuthService_ServiceDesc.ServiceName, b.Auth, log))
	}
	g := &Gateway{cfg: cfg, log: log, stalls: defaultStalls, started: time.Now().UTC(),
		ingest: ingestv1.NewIngestServiceClient(b.Ingest), auth: authv1.NewAuthServiceClient(authConn), backends: backends}
	if cfg.InflightBodyBytes > 0 {
		g.inflight = budget.New(cfg.InflightBodyBytes, cfg.InflightWait)
	}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newCodec()),
		runtime.WithForwardResponseOption(writeHeader),
		runtime.WithForwardResponseRewriter(writeBody),
		runtime.WithErrorHandler(g.handleError),
		runtime.WithRoutingErrorHandler(g.handleRoutingError),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithMetadata(cfg.showSecret),
		// Without these, a POST that fits no route is tried as a GET with its form body as
		// the query, and a header may change the method: neither is part of the protocol.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithMiddlewares(probeRoute, nameRoute),
	)
	if err := ingestv1.RegisterIngestServiceHandler(ctx, g.mux, b.Ingest); err != nil {
		return nil, err
	}
	if err := ingestv1.RegisterFailureServiceHandler(ctx, g.mux, b.Ingest); err != nil {
		return nil, err
	}
	if err := ingestv1.RegisterCompareServiceHandler(ctx, g.mux, b.Ingest); err != nil {
		return nil, err
	}
	if err := authv1.RegisterAuthServiceHandlerClient(ctx, g.mux, g.auth); err != nil {
		return nil, err
	}
	if err := analysisv1.RegisterAnalysisServiceHandler(ctx, g.mux, b.Analysis); err != nil {
		return nil, err
	}
	if err := analysisv1.RegisterSpliceServiceHandler(ctx, g.mux, b.Analysis); err != nil {
		return nil, err
	}
	g.watch, g.stopping = ingestv1.NewBuildWatchServiceClient(b.Ingest), make(chan struct{})
	// Registered after the generated handlers, this one takes the route over from them.
	g.phases = ingestv1.NewPhaseStreamServiceClient(b.Ingest)
	if err := g.mux.HandlePath(http.MethodPost, phaseUpdatePath, g.servePhaseUpdate); err != nil {
		return nil, err
	}
	if err := g.mux.HandlePath(http.MethodGet, phaseOutputPath, g.servePhaseOutput); err != nil {
		return nil, err
	}
	if err := g.mux.HandlePath(http.MethodGet, buildEventsPath, g.serveBuildEvents); err != nil {
		return nil, err
	}
	if err := g.mux.HandlePath(http.MethodGet, "/ms1", g.serviceInfo); err != nil {
		return nil, err
	}
	if err := g.mux.HandlePath(http.MethodGet, "/api/docs/openapi.json", serveOpenAPI); err != nil {
		return nil, err
	}
	if err := g.mux.HandlePath(http.MethodGet, "/api/docs", serveDocs); err != nil {
		return nil, err
	}
	if cfg.Metrics != nil {
		metrics := func(w http.ResponseWriter, r *http.Request, _ map[string]string) { cfg.Metrics.ServeHTTP(w, r) }
		if err := g.mux.HandlePath(http.MethodGet, "/metrics", metrics); err != nil {
			return nil, err
		}
	}
	pageOpts := cfg.Pages
	pageOpts.ProtocolPrefix = cfg.APIPrefix
	pages, err := ui.New(ui.NewClients(b.Ingest, authConn, b.Analysis), log, pageOpts)
	if err != nil {
		return nil, err
	}
	g.pages = pages
	g.handler = g.limitBodies(g.limitInflight(g.mux))
	for _, b := range g.backends {
		go b.watch(ctx)
	}
	return g, nil
}

// ServeHTTP normalises the path, limits the body and routes.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, r = g.stalls.bound(w, r)
	// Logs are served as they were posted: never let a browser guess them to be HTML.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !cleanURL(r.URL) {
		const message = "The URL must be valid UTF-8 without NUL characters."
		if path, ok := g.internalPath(r.URL.Path); ok && !jsonPrefixes[firstSegment(path)] {
			g.pages.ServeError(w, r, http.StatusBadRequest, message)
			return
		}
		writeError(w, http.StatusBadRequest, errorBody{Message: message})
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		// Read as it is, a compressed body would be refused as malformed JSON or XML.
		writeError(w, http.StatusUnsupportedMediaType, errorBody{
			Message: "Compressed bodies are not taken: send the body without a Content-Encoding."})
		return
	}
	if probe, ok := probes[r.URL.Path]; ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		telemetry.SetRoute(r.Context(), r.URL.Path)
		probe(g, w, r)
		return
	}
	if page, pathQuery, ok := cdashPage(r.URL); ok {
		telemetry.SetRoute(r.Context(), page)
		g.limitPart(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.serveCDash(w, r, page, pathQuery)
		})).ServeHTTP(w, r)
		return
	}
	if strings.TrimSuffix(r.URL.Path, "/") == junitPath {
		telemetry.SetRoute(r.Context(), junitPath)
		g.limitPart(http.HandlerFunc(g.serveJUnit)).ServeHTTP(w, r)
		return
	}
	path, ok := g.internalPath(r.URL.Path)
	if !ok {
		g.handleRoutingError(r.Context(), g.mux, nil, w, r, http.StatusNotFound)
		return
	}
	r.URL.Path, r.URL.RawPath = path, ""
	// grpc-gateway would make this header the call's deadline: a client could time out
	// every call it makes at once and get 504s. The services bound their own work.
	r.Header.Del("Grpc-Timeout")
	if path == "/auth/token" {
		serviceFromHeader(r)
	}
	if r.Method == http.MethodHead {
		// Answered as the GET it stands for; net/http drops the body. A log's route asks
		// ingest for no body at all (headRequest).
		r = r.WithContext(context.WithValue(r.Context(), headKey{}, true))
		r.Method = http.MethodGet
	}
	segment := firstSegment(path)
	if !jsonPrefixes[segment] {
		// A page takes at most a small form.
		r.Body = http.MaxBytesReader(w, r.Body, pageBodyLimit)
		g.pages.ServeHTTP(w, r)
		return
	}
	if segment == "api" {
		g.pages.SessionReads(w, r)
	}
	g.handler.ServeHTTP(w, r)
}

// cleanURL reports whether the decoded path and query are text the services can take.
func cleanURL(u *url.URL) bool {
	ok := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
	if !ok(u.Path) {
		return false
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return false
	}
	for k, vs := range query {
		if !ok(k) {
			return false
		}
		for _, v := range vs {
			if !ok(v) {
				return false
			}
		}
	}
	return true
}

// internalPath maps a request path to the routes' form: the configured protocol prefix
// becomes /ms1 and one trailing slash goes, since every route answers with and without it
// and a POST must never be redirected.
func (g *Gateway) internalPath(p string) (string, bool) {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	prefix := "/" + g.cfg.APIPrefix
	if g.cfg.APIPrefix != "ms1" {
		if p == "/ms1" || strings.HasPrefix(p, "/ms1/") {
			return "", false
		}
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			p = "/ms1" + p[len(prefix):]
		}
	}
	return p, true
}

// serviceFromHeader passes the Service header Spack sends to the realm (PROTOCOL.md §3.2) as
// the service query parameter, unless the query names one itself.
func serviceFromHeader(r *http.Request) {
	svc := r.Header.Get("Service")
	q := r.URL.Query()
	if svc == "" || q.Get("service") != "" {
		return
	}
	q.Set("service", svc)
	r.URL.RawQuery = q.Encode()
}

// pageBodyLimit bounds what a page's form may post.
const pageBodyLimit = 64 << 10

// firstSegment is the first segment of a path: "builds" for /builds/1, "" for /.
func firstSegment(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return first
}
