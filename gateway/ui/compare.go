package ui

import (
	"net/http"
	"strconv"

	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

type compareData struct {
	A, B       string
	Comparison *ingestv1.BuildComparison
	// Analysis compares the analyzer results; AnalysisErr says why it could not, which
	// leaves the rest of the comparison standing.
	Analysis    *analysisv1.AnalysisComparison
	AnalysisErr string
}

// buildPair reads the build ids a and b of a two-build page; ok is false while either is
// still to give.
func buildPair(r *http.Request) (a, b int64, ok bool, err error) {
	q := r.URL.Query()
	if q.Get("a") == "" || q.Get("b") == "" {
		return 0, 0, false, nil
	}
	a, errA := strconv.ParseInt(q.Get("a"), 10, 64)
	b, errB := strconv.ParseInt(q.Get("b"), 10, 64)
	if errA != nil || errB != nil || a <= 0 || b <= 0 {
		return 0, 0, false, errs.New(errs.BadRequest, "a and b must be build ids.")
	}
	return a, b, true, nil
}

// comparePage compares two builds: their DAGs, environments, phases, errors and, when both
// were analyzed, their analyzer results.
func comparePage(r *http.Request, c Clients) (*Page, error) {
	d := compareData{A: r.URL.Query().Get("a"), B: r.URL.Query().Get("b")}
	a, b, ok, err := buildPair(r)
	if err != nil || !ok {
		return &Page{Template: "compare", Title: "Compare two builds", Data: d}, err
	}
	if d.Comparison, err = c.Compare.CompareBuilds(r.Context(), &ingestv1.CompareBuildsRequest{A: a, B: b}); err != nil {
		return nil, err
	}
	if d.Analysis, err = c.Analysis.CompareAnalyses(r.Context(), &analysisv1.CompareAnalysesRequest{A: a, B: b}); err != nil {
		d.AnalysisErr = status.Convert(err).Message()
	}
	return &Page{Template: "compare", Title: "Compare builds " + d.A + " and " + d.B, Data: d}, nil
}

type spliceData struct {
	A, B       string
	Prediction *analysisv1.SplicePrediction
}

// splicePage predicts whether build b's libraries can replace build a's.
func splicePage(r *http.Request, c Clients) (*Page, error) {
	d := spliceData{A: r.URL.Query().Get("a"), B: r.URL.Query().Get("b")}
	a, b, ok, err := buildPair(r)
	if err != nil || !ok {
		return &Page{Template: "splice", Title: "Predict a splice", Data: d}, err
	}
	if d.Prediction, err = c.Splice.PredictSplice(r.Context(), &analysisv1.PredictSpliceRequest{A: a, B: b}); err != nil {
		return nil, err
	}
	return &Page{Template: "splice", Title: "Splice of build " + d.B + " into build " + d.A, Data: d}, nil
}
