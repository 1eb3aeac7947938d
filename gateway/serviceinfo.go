package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/spackmon/spackmon/pkg/version"
)

type organization struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type serviceInfo struct {
	ID                  string       `json:"id"`
	Status              string       `json:"status"`
	Name                string       `json:"name"`
	Description         string       `json:"description"`
	Organization        organization `json:"organization"`
	ContactURL          string       `json:"contactUrl"`
	DocumentationURL    string       `json:"documentationUrl"`
	CreatedAt           string       `json:"createdAt"`
	UpdatedAt           string       `json:"updatedAt"`
	Environment         string       `json:"environment"`
	Version             string       `json:"version"`
	AuthInstructionsURL string       `json:"auth_instructions_url"`
}

// serviceInfo answers GET /ms1/ (PROTOCOL.md §2): never behind auth, since Spack cannot
// handle a challenge there, and 503 when a
// backing service does not serve, as its health watch last said.
func (g *Gateway) serviceInfo(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	info := serviceInfo{
		ID:                  "spackmon",
		Status:              "running",
		Name:                "spackmon",
		Description:         "Records Spack builds: spec DAGs, build environments, phase logs with their errors and warnings, and analyzer results.",
		Organization:        organization{Name: "spackmon", URL: "https://github.com/spackmon/spackmon"},
		ContactURL:          "https://github.com/spackmon/spackmon/issues",
		DocumentationURL:    "https://github.com/spackmon/spackmon#readme",
		CreatedAt:           g.started.Format(time.RFC3339),
		UpdatedAt:           g.started.Format(time.RFC3339),
		Environment:         g.cfg.Environment,
		Version:             version.String(),
		AuthInstructionsURL: "https://github.com/spackmon/spackmon#pointing-spack-at-spackmon",
	}
	code := http.StatusOK
	if !g.backendsServing(r.Context()) {
		code, info.Status = http.StatusServiceUnavailable, "service not available"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(info)
}
