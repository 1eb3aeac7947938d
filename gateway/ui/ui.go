// Package ui is spackmon's web pages: server-rendered html/template pages, with their CSS,
// icons and the little JavaScript they need embedded in the binary, so they work on a
// network without internet. A page handler reads what it shows from the gRPC services, as
// the JSON routes do (browser → gateway → service → store), and names the template that
// renders it; a failed call renders an error page, never JSON.
package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/telemetry"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Clients are the services the pages read from.
type Clients struct {
	Ingest   ingestv1.IngestServiceClient
	Failures ingestv1.FailureServiceClient
	Analysis analysisv1.AnalysisServiceClient
	Auth     authv1.AuthServiceClient
	Compare  ingestv1.CompareServiceClient
	Splice   analysisv1.SpliceServiceClient
}

// NewClients makes the clients of the services reached through the connections.
func NewClients(ingest, auth, analysis grpc.ClientConnInterface) Clients {
	return Clients{
		Ingest:   ingestv1.NewIngestServiceClient(ingest),
		Failures: ingestv1.NewFailureServiceClient(ingest),
		Auth:     authv1.NewAuthServiceClient(auth),
		Analysis: analysisv1.NewAnalysisServiceClient(analysis),
		Compare:  ingestv1.NewCompareServiceClient(ingest),
		Splice:   analysisv1.NewSpliceServiceClient(analysis),
	}
}

// Options adjust how pages reach the services and who they show as logged in.
type Options struct {
	// CallContext, when set, makes the context of a page's service calls from its request,
	// for example with the credentials of a web session. By default the request's own
	// Authorization header is passed on.
	CallContext func(r *http.Request) context.Context
	// Viewer, when set, names the person looking at the page, shown in the header. By
	// default it is the user of the web session.
	Viewer func(r *http.Request) string
	// Login configures the web login (login.go).
	Login LoginOptions
	// ProtocolPrefix is the Spack Monitor protocol's path prefix ("ms1"), for links to its
	// downloads.
	ProtocolPrefix string
	// Intercept, when set, sees every request for a page first and may answer it itself
	// (a redirect to a login page, say), returning true when it did.
	Intercept func(w http.ResponseWriter, r *http.Request) bool
	// Register, when set, adds more pages (Handle, HandleFunc) after the built-in ones; their
	// templates go in this package's templates folder like any page's.
	Register func(u *UI)
}

// Page is what a handler wants shown.
type Page struct {
	// Template is the name of the page's template file without .html.
	Template string
	Title    string
	// Status is the HTTP status; 0 means 200.
	Status int
	Data   any
}

// Handler reads what a page shows and names its template. An error it returns is shown
// as an error page: an *Error as it is, a gRPC status by its code, anything else as 500.
type Handler func(r *http.Request, c Clients) (*Page, error)

// Error is a failure to show to the user as it is.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// NotFound is the error of a page for something that does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is the error of a page asked for with parameters it cannot use.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// UI serves the pages and their assets.
type UI struct {
	clients Clients
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	pages   map[string]*template.Template
	assets  *assetSet
	// login holds the identity providers of the web login.
	login *providers
}

// New loads the templates and assets and registers every page.
func New(c Clients, log *slog.Logger, opts Options) (*UI, error) {
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	u := &UI{clients: c, opts: opts, log: log, mux: http.NewServeMux(), assets: assets}
	if u.pages, err = u.parseTemplates(); err != nil {
		return nil, err
	}
	u.mux.Handle("GET /static/{name}", assets)
	registerPages(u)
	if err := u.registerLogin(); err != nil {
		return nil, err
	}
	if opts.Register != nil {
		opts.Register(u)
	}
	return u, nil
}

// Handle registers a page handler for a ServeMux pattern such as "GET /builds/{id}".
func (u *UI) Handle(pattern string, h Handler) {
	u.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		page, err := h(r.WithContext(u.callContext(r)), u.clients)
		if err != nil {
			u.renderError(w, r, err)
			return
		}
		u.render(w, r, page)
	})
}

// ServeError answers with the error page, for a request the gateway refuses before it
// reaches a page.
func (u *UI) ServeError(w http.ResponseWriter, r *http.Request, status int, message string) {
	setSecurityHeaders(w.Header())
	u.renderError(w, r, &Error{Status: status, Message: message})
}

// HandleFunc registers a plain HTTP handler (a form post, a download) that still gets the
// pages' security headers and error pages for unknown methods.
func (u *UI) HandleFunc(pattern string, h http.HandlerFunc) { u.mux.HandleFunc(pattern, h) }

// ServeHTTP serves a page, an asset, or the not-found page.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	r, ok := u.admit(w, r)
	if !ok {
		return
	}
	if u.opts.Intercept != nil && u.opts.Intercept(w, r) {
		return
	}
	_, pattern := u.mux.Handler(r)
	if pattern == "" {
		if allowed := u.allowedMethods(r); allowed != "" {
			w.Header().Set("Allow", allowed)
			u.renderError(w, r, &Error{Status: http.StatusMethodNotAllowed, Message: "Method " + r.Method + " is not allowed here."})
			return
		}
		u.renderError(w, r, NotFound("There is no page at %s.", r.URL.Path))
		return
	}
	telemetry.SetRoute(r.Context(), pattern)
	u.mux.ServeHTTP(w, r)
}

// allowedMethods is the Allow header of a 405 for r's path: the methods a page answers it
// with; empty when none does (a 404).
func (u *UI) allowedMethods(r *http.Request) string {
	return AllowHeader(func(method string) bool {
		probe := r.Clone(r.Context())
		probe.Method = method
		_, pattern := u.mux.Handler(probe)
		return pattern != ""
	})
}

// AllowHeader is the Allow header of a 405: the methods routed says a route takes, HEAD
// wherever GET goes (the gateway answers a HEAD as its GET).
func AllowHeader(routed func(method string) bool) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if routed(m) {
			allowed = append(allowed, m)
			if m == http.MethodGet {
				allowed = append(allowed, http.MethodHead)
			}
		}
	}
	return strings.Join(allowed, ", ")
}

// contentSecurityPolicy allows only this site's own scripts, styles and images, no inline
// script or style, and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// callContext passes the request's credentials on to the services.
func (u *UI) callContext(r *http.Request) context.Context {
	if u.opts.CallContext != nil {
		return u.opts.CallContext(r)
	}
	ctx := r.Context()
	if a := r.Header.Get("Authorization"); a != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	return withSession(ctx, r)
}

// layout is what the shared layout reads besides the page's own data.
type layout struct {
	Title  string
	Viewer string
	Path   string
	Page   any
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, p *Page) {
	t, ok := u.pages[p.Template]
	if !ok {
		u.renderError(w, r, fmt.Errorf("no template %q", p.Template))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", u.layoutFor(r, p.Title, p.Data)); err != nil {
		// Rendered to a buffer first, so a failing template shows the error page, not half
		// a page.
		u.renderError(w, r, fmt.Errorf("rendering %s: %w", p.Template, err))
		return
	}
	status := p.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeHTML(w, status, buf.Bytes())
}

func (u *UI) layoutFor(r *http.Request, title string, data any) layout {
	l := layout{Title: title, Path: r.URL.Path, Page: data}
	if u.opts.Viewer != nil {
		l.Viewer = u.opts.Viewer(r)
	} else {
		l.Viewer = viewerName(r)
	}
	return l
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorPage is the data of the error template.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// RetryUnavailableAfter is the Retry-After of a 503, API or page, in seconds: about as long
// as a restarted database, a replaced process or a failover takes to serve again.
const RetryUnavailableAfter = "5"

// renderError shows err as a page. Messages of server faults stay in the log.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, err error) {
	p := errorPage{Status: http.StatusInternalServerError, Message: "Something went wrong on the server; it has been logged."}
	var pageErr *Error
	switch {
	case errors.As(err, &pageErr):
		p.Status, p.Message = pageErr.Status, pageErr.Message
	case status.Code(err) != codes.Unknown:
		st := status.Convert(err)
		p.Status = errs.HTTPStatus(st)
		switch {
		case p.Status == http.StatusServiceUnavailable || st.Code() == codes.DeadlineExceeded:
			p.Status = http.StatusServiceUnavailable
			p.Message = "A service this page needs is not available right now; try again in a moment."
			w.Header().Set("Retry-After", RetryUnavailableAfter)
			u.log.WarnContext(r.Context(), "page backend unavailable", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
		case p.Status == http.StatusUnauthorized:
			p.Message = "You need to log in to see this page."
		case p.Status < 500:
			p.Message = st.Message()
		default:
			u.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
		}
	default:
		u.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "error", err)
	}
	p.Heading = headingFor(p.Status)
	var buf bytes.Buffer
	if err := u.pages["error"].ExecuteTemplate(&buf, "layout", u.layoutFor(r, p.Heading, p)); err != nil {
		u.log.ErrorContext(r.Context(), "rendering the error page", "error", err)
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>" + template.HTMLEscapeString(p.Message))
	}
	writeHTML(w, p.Status, buf.Bytes())
}

func headingFor(code int) string {
	switch code {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Log in needed"
	case http.StatusServiceUnavailable:
		return "Temporarily unavailable"
	case http.StatusBadRequest:
		return "Bad request"
	}
	if code >= 500 {
		return "Server error"
	}
	return http.StatusText(code)
}

// parseTemplates makes one template set per page: the layout, the shared parts and the
// page's file.
func (u *UI) parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "parts" {
			continue
		}
		// parts.html holds the pieces several pages share.
		files := []string{"templates/layout.html", "templates/parts.html", name}
		t, err := template.New(base).Funcs(u.funcs()).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", base, err)
		}
		pages[base] = t
	}
	if pages["error"] == nil {
		return nil, errors.New("no error template")
	}
	return pages, nil
}
