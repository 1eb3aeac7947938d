package ui

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// The windows the failures page offers.
var failureWindows = []string{"1d", "7d", "30d", "90d", "365d"}

type failuresData struct {
	// Fingerprint, when set, is the one failure shown: the build page links to a failure
	// by it, which the top of the list may not reach.
	Since, Kind, Fingerprint string
	Windows                  []string
	Failures                 []*ingestv1.Failure
}

func failuresPage(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	d := failuresData{Since: q.Get("since"), Kind: q.Get("kind"), Fingerprint: q.Get("fingerprint"), Windows: failureWindows}
	if d.Since == "" {
		d.Since = "7d"
	}
	if d.Kind == "" {
		d.Kind = "error"
	}
	resp, err := c.Failures.ListFailures(r.Context(), &ingestv1.ListFailuresRequest{Since: d.Since, Kind: d.Kind, Fingerprint: d.Fingerprint})
	if err != nil {
		return nil, err
	}
	d.Failures = resp.GetFailures()
	return &Page{Template: "failures", Title: "Top failures", Data: d}, nil
}

// buildFailures is what the build page shows about a build's failures: its delta against
// its reference, in one line, and its errors and warnings grouped by fingerprint.
type buildFailures struct {
	Delta *ingestv1.BuildDelta
	// Line says what changed since the reference ("2 new errors since build #812").
	Line   string
	Groups []*ingestv1.BuildFingerprint
}

func readBuildFailures(ctx context.Context, c Clients, id int64) (buildFailures, error) {
	var f buildFailures
	prints, err := c.Failures.ListBuildFingerprints(ctx, &ingestv1.ListBuildFingerprintsRequest{BuildId: id})
	if err != nil {
		return f, err
	}
	f.Groups = prints.GetFingerprints()
	if f.Delta, err = c.Failures.GetBuildDelta(ctx, &ingestv1.GetBuildDeltaRequest{BuildId: id}); err != nil {
		return f, err
	}
	f.Line = deltaLine(f.Delta)
	return f, nil
}

// deltaLine puts a delta in words.
func deltaLine(d *ingestv1.BuildDelta) string {
	ref := d.GetReference()
	if ref == nil {
		if n := len(d.GetNewErrors()); n > 0 {
			return fmt.Sprintf("%s; no earlier build of this package, compiler and architecture to compare with", count(n, "error"))
		}
		return ""
	}
	line := fmt.Sprintf("%s since build #%d (%s)", count(len(d.GetNewErrors()), "new error"), ref.GetBuildId(), ref.GetStatus())
	if n := len(d.GetFixedErrors()); n > 0 {
		line += fmt.Sprintf(", %d fixed", n)
	}
	if n := len(d.GetOutstandingErrors()); n > 0 {
		line += fmt.Sprintf(", %d outstanding", n)
	}
	if n := len(d.GetNewWarnings()); n > 0 {
		line += ", " + count(n, "new warning")
	}
	return line
}

// count is "no errors", "1 error" or "2 errors".
func count[N int | int64](n N, noun string) string {
	switch n {
	case 0:
		return "no " + noun + "s"
	case 1:
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}

// Longest form values of the known-cause form, in bytes: the service checks them again.
const (
	maxCauseField = 2048
	maxCauseToken = 1024
)

type causesData struct {
	Causes  []*ingestv1.KnownCause
	Message string
	// Form holds what was typed, shown again when it was refused.
	Form struct{ Title, Link, Pattern, Fingerprint string }
}

// registerCauses maps the known-cause pages. Managing causes takes an admin's API token,
// typed into the form: a web session carries no admin scope. The token is exchanged for an
// admin-scoped realm token for the one call, and never kept or shown.
func (u *UI) registerCauses() {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, &Error{Status: http.StatusForbidden, Message: "This form was sent from another site; it is refused."})
	}))
	u.Handle("GET /failures/causes", func(r *http.Request, c Clients) (*Page, error) { return u.causesPage(r, c, causesData{}, 0) })
	u.mux.Handle("POST /failures/causes", cop.Handler(http.HandlerFunc(u.createCause)))
	u.mux.Handle("POST /failures/causes/{id}/delete", cop.Handler(http.HandlerFunc(u.deleteCause)))
}

func (u *UI) causesPage(r *http.Request, c Clients, d causesData, status int) (*Page, error) {
	resp, err := c.Failures.ListKnownCauses(r.Context(), &ingestv1.ListKnownCausesRequest{})
	if err != nil {
		return nil, err
	}
	d.Causes = resp.GetCauses()
	return &Page{Template: "causes", Title: "Known failure causes", Status: status, Data: d}, nil
}

// showCauses renders the causes page after a form was handled.
func (u *UI) showCauses(w http.ResponseWriter, r *http.Request, d causesData, status int) {
	p, err := u.causesPage(r.WithContext(u.callContext(r)), u.clients, d, status)
	if err != nil {
		u.renderError(w, r, err)
		return
	}
	u.render(w, r, p)
}

// adminContext exchanges the form's API token for an admin realm token.
func (u *UI) adminContext(r *http.Request) (context.Context, error) {
	tok := r.PostFormValue("token")
	if tok == "" || len(tok) > maxCauseToken {
		return nil, status.Error(codes.Unauthenticated, "Give an admin's API token.")
	}
	ctx := metadata.AppendToOutgoingContext(r.Context(), "authorization", "Bearer "+tok)
	res, err := u.clients.Auth.IssueToken(ctx, &authv1.IssueTokenRequest{Scope: "admin"})
	if err != nil {
		return nil, err
	}
	return metadata.AppendToOutgoingContext(r.Context(), "authorization", "Bearer "+res.GetToken()), nil
}

func (u *UI) createCause(w http.ResponseWriter, r *http.Request) {
	var d causesData
	d.Form.Title, d.Form.Link = r.PostFormValue("title"), r.PostFormValue("link")
	d.Form.Pattern, d.Form.Fingerprint = r.PostFormValue("pattern"), r.PostFormValue("fingerprint")
	for _, v := range []string{d.Form.Title, d.Form.Link, d.Form.Pattern, d.Form.Fingerprint} {
		if len(v) > maxCauseField {
			d.Message = "A field is too long."
			u.showCauses(w, r, d, http.StatusBadRequest)
			return
		}
	}
	ctx, err := u.adminContext(r)
	if err == nil {
		_, err = u.clients.Failures.CreateKnownCause(ctx, &ingestv1.CreateKnownCauseRequest{
			Title: d.Form.Title, Link: d.Form.Link, Pattern: d.Form.Pattern, Fingerprint: d.Form.Fingerprint})
	}
	if err != nil {
		d.Message, _ = refusal(err)
		u.showCauses(w, r, d, statusOf(err))
		return
	}
	http.Redirect(w, r, "/failures/causes", http.StatusSeeOther)
}

func (u *UI) deleteCause(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		u.renderError(w, r, NotFound("There is no known cause %q.", r.PathValue("id")))
		return
	}
	ctx, err := u.adminContext(r)
	if err == nil {
		_, err = u.clients.Failures.DeleteKnownCause(ctx, &ingestv1.DeleteKnownCauseRequest{Id: id})
	}
	if err != nil {
		var d causesData
		d.Message, _ = refusal(err)
		u.showCauses(w, r, d, statusOf(err))
		return
	}
	http.Redirect(w, r, "/failures/causes", http.StatusSeeOther)
}

// refusal is the message of a service's refusal.
func refusal(err error) (string, bool) {
	s, ok := status.FromError(err)
	if !ok {
		return "The request failed.", false
	}
	return s.Message(), true
}

// statusOf is the HTTP status a refused form is shown with.
func statusOf(err error) int {
	switch status.Code(err) {
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
