package gateway

import (
	_ "embed"
	"net/http"
)

//go:embed openapi/spackmon.swagger.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
