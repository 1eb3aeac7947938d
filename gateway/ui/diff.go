package ui

import (
	"net/http"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

type specDiffData struct {
	A, B string
	Diff *ingestv1.SpecDiff
}

func specDiffPage(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	d := specDiffData{A: q.Get("a"), B: q.Get("b")}
	if d.A == "" || d.B == "" {
		return &Page{Template: "specdiff", Title: "Compare two specs", Data: d}, nil
	}
	diff, err := c.Ingest.DiffSpecs(r.Context(), &ingestv1.DiffSpecsRequest{A: d.A, B: d.B})
	if err != nil {
		return nil, err
	}
	d.Diff = diff
	return &Page{Template: "specdiff", Title: "Spec diff: " + diff.GetA().GetName() + " and " + diff.GetB().GetName(), Data: d}, nil
}
