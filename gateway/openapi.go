package gateway

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
)

//go:embed openapi/spackmon.swagger.json
var generatedOpenAPI []byte

// cdashOpenAPI describes the routes the gateway serves itself for CDash clients and JUnit
// reports, which no gRPC route maps; they are added to the generated document.
//
//go:embed cdash_openapi.json
var cdashOpenAPI []byte

// eventsOpenAPI describes the build event stream the gateway serves itself.
//
//go:embed events_openapi.json
var eventsOpenAPI []byte

// openAPI is the document served: the generated one with the CDash routes added.
var openAPI = func() []byte {
	var doc map[string]any
	if err := json.Unmarshal(generatedOpenAPI, &doc); err != nil {
		panic("embedded OpenAPI document: " + err.Error())
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, extraDoc := range [][]byte{cdashOpenAPI, eventsOpenAPI} {
		var extra map[string]any
		if err := json.Unmarshal(extraDoc, &extra); err != nil {
			panic("embedded OpenAPI paths: " + err.Error())
		}
		for p, ops := range extra["paths"].(map[string]any) {
			paths[p] = ops
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic("OpenAPI document: " + err.Error())
	}
	return out
}()

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

// operation is one route of the OpenAPI document as the docs page lists it.
type operation struct {
	Method, Path, Summary string
	Params                []string
}

// operations reads the routes out of the embedded OpenAPI document once.
var operations = func() []operation {
	var doc struct {
		Paths map[string]map[string]struct {
			Summary     string `json:"summary"`
			Description string `json:"description"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		panic("embedded OpenAPI document: " + err.Error())
	}
	var ops []operation
	for p, methods := range doc.Paths {
		for m, op := range methods {
			o := operation{Method: strings.ToUpper(m), Path: p, Summary: op.Summary}
			if o.Summary == "" {
				o.Summary = op.Description
			}
			for _, param := range op.Parameters {
				if param.In == "query" {
					o.Params = append(o.Params, param.Name)
				}
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	return ops
}()

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spackmon API</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .2rem}td{padding:.3rem .6rem;vertical-align:top}</style></head>
<body><h1>spackmon API</h1>
<p>The machine-readable document is <a href="/api/docs/openapi.json">openapi.json</a>.
It is generated from the gRPC definitions: on the wire, ids and counts are JSON numbers, and
the <code>/ms1</code> routes take and answer the Spack Monitor protocol's JSON (answers wrapped
as <code>{"message", "data", "code"}</code>; the protocol prefix is configurable).</p>
<table>{{range .}}<tr><td><code>{{.Method}}</code></td><td><code>{{.Path}}</code></td>
<td>{{.Summary}}{{if .Params}}<br>query: {{range $i, $p := .Params}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}{{end}}</td></tr>
{{end}}</table></body></html>
`))

func serveDocs(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = docsPage.Execute(w, operations)
}
