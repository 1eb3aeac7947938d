package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/gateway/ui"
	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/errs"
)

// errorBody is every error answer: JSON, with the HTTP status repeated as code.
type errorBody struct {
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
	Code    int    `json:"code"`
}

func writeError(w http.ResponseWriter, code int, body errorBody) {
	body.Code = code
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// handleError answers a failed call. The status comes from the error table; the message is
// the service's, except for server faults, whose details stay in the log.
func (g *Gateway) handleError(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if bodyTooLarge(r) {
		g.writeTooLarge(w)
		return
	}
	if bodyRefusedBusy(r) {
		writeBusy(w)
		return
	}
	st := status.Convert(err)
	code := errs.HTTPStatus(st)
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		if c := md.TrailerMD.Get(authn.ChallengeHeader); len(c) > 0 {
			w.Header().Set("Www-Authenticate", c[0])
		}
	}
	body := errorBody{Message: st.Message()}
	switch reason, _ := errs.FromStatus(st); {
	case reason == "" && code == http.StatusBadRequest:
		// The generated handlers' own parse errors name Go internals; say which
		// parameter is wrong instead.
		body.Message = parameterMessage(st.Message())
	case reason == errs.SpecNotFound:
		body.Data = map[string]bool{"build_created": false, "build_environment_created": false}
	case st.Code() == codes.Canceled && r.Context().Err() != nil:
		// Nobody reads the answer; a write may or may not have been made. A client that
		// hangs up is no fault of the server's, so this is not a warning.
		g.log.InfoContext(ctx, "request ended by the client", "method", r.Method, "path", r.URL.Path, "error", st.Message())
	case code == http.StatusServiceUnavailable:
		// The service logs the cause behind its own 503s; a connection error is its own cause.
		g.log.WarnContext(ctx, "backend unavailable", "method", r.Method, "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
		body.Message = "The service is not available right now; try again later."
		w.Header().Set("Retry-After", ui.RetryUnavailableAfter)
	case code >= 500:
		g.log.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
		body.Message = "Internal server error."
	}
	writeError(w, code, body)
}

func (g *Gateway) writeTooLarge(w http.ResponseWriter) {
	writeError(w, http.StatusRequestEntityTooLarge, errorBody{
		Message: fmt.Sprintf("The request body is larger than %d bytes.", g.cfg.MaxBodyBytes),
	})
}

func (g *Gateway) handleRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if _, probe := ctx.Value(allowProbeKey{}).(*allowProbe); probe {
		return
	}
	switch httpStatus {
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		w.Header().Set("Allow", g.allowedMethods(r))
		writeError(w, http.StatusMethodNotAllowed, errorBody{Message: "Method " + r.Method + " is not allowed here."})
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, errorBody{Message: "Not found."})
	default:
		writeError(w, httpStatus, errorBody{Message: http.StatusText(httpStatus)})
	}
}

// The generated handlers report path and query values that do not parse in these forms.
var badParameter = regexp.MustCompile(`parameter: ([A-Za-z_.]+)|parsing field "([A-Za-z_.]+)"`)

func parameterMessage(msg string) string {
	m := badParameter.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return fmt.Sprintf("Invalid value for %s.", m[1]+m[2])
}
