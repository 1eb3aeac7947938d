package ui

import (
	"net/http"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

type specDiffData struct {
	A, B string
	Diff *ingestv1.SpecDiff
	// Spec is spec a while b is still to choose; Others the other specs of its package to
	// choose from.
	Spec   *ingestv1.Spec
	Others []*ingestv1.Spec
}

// diffChoices is how many other specs of a package the diff page offers to compare with.
const diffChoices = 50

func specDiffPage(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	d := specDiffData{A: q.Get("a"), B: q.Get("b")}
	if d.A != "" && d.B == "" {
		return specDiffChoices(r, c, d)
	}
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

// specDiffChoices offers the other specs of spec a's package as the second one.
func specDiffChoices(r *http.Request, c Clients, d specDiffData) (*Page, error) {
	sp, err := c.Ingest.GetSpec(r.Context(), &ingestv1.GetSpecRequest{FullHash: d.A})
	if err != nil {
		return nil, err
	}
	list, err := c.Ingest.ListSpecs(r.Context(), &ingestv1.ListSpecsRequest{Name: sp.GetName(), PageSize: diffChoices + 1})
	if err != nil {
		return nil, err
	}
	d.Spec = sp
	for _, o := range list.GetSpecs() {
		if o.GetId() != sp.GetId() && len(d.Others) < diffChoices {
			d.Others = append(d.Others, o)
		}
	}
	return &Page{Template: "specdiff", Title: "Compare " + sp.GetName() + "@" + sp.GetVersion(), Data: d}, nil
}
