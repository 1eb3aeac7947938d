package gateway

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// CDash clients (ctest, Spack's CDash reporter) submit to submit.php, at the root or under
// /cdash, and are sent to buildSummary.php for the result. The gateway only adapts the
// transport: it passes each part with its parameters to ingest and answers as CDash does.

// cdashVersion is the CDash version the answers claim; clients only check that it is there.
const cdashVersion = "3.4.0"

// maxCDashPart is the largest part passed on, as the ingest service takes it; larger ones
// are refused before (or while) they are read, never held whole.
const maxCDashPart = 32 << 20

// maxCDashForm bounds the form of the upload API's first step.
const maxCDashForm = 64 << 10

// cdashPage is which CDash page a path names, and the query Spack put in the path itself
// ("/submit.php&build=…", from an upload URL without '?').
func cdashPage(u *url.URL) (page, pathQuery string, ok bool) {
	p := u.EscapedPath()
	p = strings.TrimPrefix(p, "/cdash")
	if before, after, found := strings.Cut(p, "&"); found {
		p, pathQuery = before, after
	}
	switch p {
	case "/submit.php", "/buildSummary.php":
		return p, pathQuery, true
	}
	return "", "", false
}

// serveCDash answers the CDash pages.
func (g *Gateway) serveCDash(w http.ResponseWriter, r *http.Request, page, pathQuery string) {
	query := r.URL.Query()
	if pathQuery != "" {
		extra, err := url.ParseQuery(pathQuery)
		if err != nil {
			writeCDashError(w, http.StatusBadRequest, "The parameters in the path do not parse.")
			return
		}
		for k, vs := range extra {
			query[k] = append(query[k], vs...)
		}
	}
	if page == "/buildSummary.php" {
		g.buildSummary(w, r, query)
		return
	}
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		g.cdashUploadRequest(w, r, query)
	case r.Method == http.MethodPut && query.Get("type") != "" && query.Get("buildid") != "":
		g.cdashUploadFile(w, r, query)
	case r.Method == http.MethodPut || r.Method == http.MethodPost:
		g.cdashPart(w, r, query)
	default:
		w.Header().Set("Allow", "PUT, POST")
		writeCDashError(w, http.StatusMethodNotAllowed, "Submit parts with PUT.")
	}
}

// buildSummary sends the reader to the build's page.
func (g *Gateway) buildSummary(w http.ResponseWriter, r *http.Request, query url.Values) {
	id, err := strconv.ParseInt(query.Get("buildid"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, errorBody{Message: "buildid must be a positive integer."})
		return
	}
	http.Redirect(w, r, "/builds/"+strconv.FormatInt(id, 10), http.StatusFound)
}

// cdashPart passes one XML part to ingest.
func (g *Gateway) cdashPart(w http.ResponseWriter, r *http.Request, query url.Values) {
	ctx, ok := g.cdashCall(w, r)
	if !ok {
		return
	}
	body, ok := g.readCDashBody(w, r)
	if !ok {
		return
	}
	md5 := query.Get("MD5")
	if md5 == "" {
		md5 = query.Get("md5")
	}
	res, err := g.ingest.SubmitCDashPart(ctx, &ingestv1.SubmitCDashPartRequest{
		Project: query.Get("project"), BuildName: query.Get("build"), Site: query.Get("site"),
		Stamp: query.Get("stamp"), FileName: query.Get("FileName"), Md5: md5, Part: body,
	})
	if err != nil {
		g.cdashFailed(w, r, err, writeCDashError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	buildID := ""
	if res.GetBuildId() > 0 {
		buildID = fmt.Sprintf("<buildId>%d</buildId>", res.GetBuildId())
	}
	// The message stays empty: ctest takes the words "error" or "warning" anywhere in an
	// answer for a failure and sends the part again.
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><cdash version="%s"><status>OK</status><message></message><md5>%s</md5>%s</cdash>`,
		cdashVersion, res.GetMd5(), buildID)
}

// cdashUploadRequest is the first step of ctest's upload API: it opens the build and asks
// for the file, whatever its checksum (datafilesmd5[0] = 0: send it).
func (g *Gateway) cdashUploadRequest(w http.ResponseWriter, r *http.Request, query url.Values) {
	ctx, ok := g.cdashCall(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCDashForm)
	if err := r.ParseForm(); err != nil {
		writeCDashJSON(w, http.StatusBadRequest, map[string]any{"status": 1, "description": "The form does not parse or is larger than 64 KiB."})
		return
	}
	form := r.PostForm
	get := func(k string) string { return firstOf(form.Get(k), query.Get(k)) }
	res, err := g.ingest.OpenCDashBuild(ctx, &ingestv1.OpenCDashBuildRequest{
		Project: get("project"), BuildName: get("build"), Site: get("site"), Stamp: get("stamp"), Track: get("track"),
	})
	if err != nil {
		g.cdashFailed(w, r, err, func(w http.ResponseWriter, code int, msg string) {
			writeCDashJSON(w, code, map[string]any{"status": 1, "description": msg})
		})
		return
	}
	writeCDashJSON(w, http.StatusOK, map[string]any{"status": 0, "buildid": res.GetBuildId(), "datafilesmd5": []int{0}})
}

// cdashUploadFile is the second step of ctest's upload API: the file itself.
func (g *Gateway) cdashUploadFile(w http.ResponseWriter, r *http.Request, query url.Values) {
	ctx, ok := g.cdashCall(w, r)
	if !ok {
		return
	}
	buildID, err := strconv.ParseInt(query.Get("buildid"), 10, 64)
	if err != nil || buildID <= 0 {
		writeCDashJSON(w, http.StatusBadRequest, map[string]any{"status": 1, "description": "buildid must be a positive integer."})
		return
	}
	body, ok := g.readCDashBody(w, r)
	if !ok {
		return
	}
	_, err = g.ingest.AttachCDashFile(ctx, &ingestv1.AttachCDashFileRequest{
		BuildId: buildID, Type: query.Get("type"), FileName: query.Get("filename"), Md5: query.Get("md5"), Content: body,
	})
	if err != nil {
		g.cdashFailed(w, r, err, func(w http.ResponseWriter, code int, msg string) {
			writeCDashJSON(w, code, map[string]any{"status": 1, "description": msg})
		})
		return
	}
	writeCDashJSON(w, http.StatusOK, map[string]any{"status": 0})
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxPart is the largest CDash part or JUnit report passed on: maxCDashPart, or the body
// limit when it is lower, since the services take no larger message.
func (g *Gateway) maxPart() int64 {
	return min(maxCDashPart, g.cfg.MaxBodyBytes)
}

// readCDashBody reads a part of at most maxPart bytes, refusing a larger one with 413
// before reading it when its length is declared (so a client that waits for 100 Continue
// never sends it) and as soon as it grows past the limit otherwise.
func (g *Gateway) readCDashBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := g.maxPart()
	tooLarge := func() ([]byte, bool) {
		writeCDashError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The part is larger than %d bytes.", limit))
		return nil, false
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return tooLarge()
	}
	if bodyRefusedBusy(r) {
		writeBusy(w)
		return nil, false
	}
	if err != nil {
		writeCDashError(w, http.StatusBadRequest, "The part could not be read.")
		return nil, false
	}
	return body, true
}

// cdashCall is the context of a call to ingest for r: its bearer token, an API token as
// both clients send, exchanged for a realm token through the auth service. Any other token
// is passed on as it is (a realm token, or anything while auth is off), as is an API token
// the realm refuses; ingest decides.
func (g *Gateway) cdashCall(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	ctx := r.Context()
	var raw string
	for _, v := range r.Header.Values("Authorization") {
		if tok, ok := authn.BearerToken(v); ok {
			raw = tok
			break
		}
	}
	if raw == "" {
		return ctx, true
	}
	// Only API tokens are offered to the realm, so that a realm token passed on never
	// counts as a failed sign-in against the client's address.
	if !strings.HasPrefix(raw, authn.APITokenScheme) {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+raw), true
	}
	md := metadata.Pairs("authorization", "Bearer "+raw, "x-forwarded-for", forwardedFor(r))
	if g.cfg.GatewaySecret != "" {
		md.Append(authn.GatewaySecretHeader, g.cfg.GatewaySecret)
	}
	res, err := g.auth.IssueToken(metadata.NewOutgoingContext(ctx, md), &authv1.IssueTokenRequest{})
	switch status.Code(err) {
	case codes.OK:
		raw = res.GetToken()
	case codes.Unauthenticated, codes.InvalidArgument:
	default:
		g.cdashFailed(w, r, err, writeCDashError)
		return nil, false
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+raw), true
}

// forwardedFor is the X-Forwarded-For chain with the client's address appended, as the
// generated handlers pass it.
func forwardedFor(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		return prior + ", " + host
	}
	return host
}

// cdashFailed answers a failed call with the status of the error table and the service's
// message, except for server faults, whose details stay in the log.
func (g *Gateway) cdashFailed(w http.ResponseWriter, r *http.Request, err error, write func(http.ResponseWriter, int, string)) {
	st := status.Convert(err)
	code := errs.HTTPStatus(st)
	msg := st.Message()
	if code >= 500 {
		g.log.ErrorContext(r.Context(), "cdash submission failed", "path", r.URL.Path, "code", st.Code().String(), "error", msg)
		msg = "The submission could not be stored right now; try again later."
	}
	write(w, code, msg)
}

// writeCDashError answers as CDash refuses a part.
func writeCDashError(w http.ResponseWriter, code int, msg string) {
	var escaped strings.Builder
	_ = xml.EscapeText(&escaped, []byte(msg))
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(code)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><cdash version="%s"><status>ERROR</status><message>%s</message></cdash>`,
		cdashVersion, escaped.String())
}

func writeCDashJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// junitPath is where JUnit reports are posted.
const junitPath = "/api/v1/junit"

// serveJUnit passes a posted JUnit report (the raw XML body; project, site, build and
// file_name in the query) to ingest and answers the builds it made, in JSON. It takes the
// same bearer tokens as the submit pages, and a refusal carries the realm's challenge so
// that a Spack Monitor client can fetch a token and retry.
func (g *Gateway) serveJUnit(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, errorBody{Message: "Post the JUnit report as the body."})
		return
	}
	ctx, ok := g.cdashCall(w, r)
	if !ok {
		return
	}
	limit := g.maxPart()
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: fmt.Sprintf("The report is larger than %d bytes.", limit)})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: fmt.Sprintf("The report is larger than %d bytes.", limit)})
		return
	}
	if bodyRefusedBusy(r) {
		writeBusy(w)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The report could not be read."})
		return
	}
	q := r.URL.Query()
	var trailer metadata.MD
	res, err := g.ingest.SubmitJUnit(ctx, &ingestv1.SubmitJUnitRequest{Report: body, Project: q.Get("project"),
		Site: q.Get("site"), BuildName: q.Get("build"), FileName: q.Get("file_name")}, grpc.Trailer(&trailer))
	if err != nil {
		if c := trailer.Get(authn.ChallengeHeader); len(c) > 0 {
			w.Header().Set("Www-Authenticate", c[0])
		}
		g.cdashFailed(w, r, err, func(w http.ResponseWriter, code int, msg string) { writeError(w, code, errorBody{Message: msg}) })
		return
	}
	builds := make([]map[string]any, len(res.GetBuilds()))
	for i, b := range res.GetBuilds() {
		builds[i] = map[string]any{"build_id": b.GetBuildId(), "build_name": b.GetBuildName(), "status": b.GetStatus(),
			"spec_full_hash": b.GetSpecFullHash(), "tests": b.GetTests()}
	}
	writeCDashJSON(w, http.StatusOK, map[string]any{"builds": builds})
}
