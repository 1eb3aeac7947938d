package ui

import (
	"fmt"
	"net/http"
	"net/url"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

type matrixData struct {
	Package, Arch string
	Matrix        *ingestv1.BuildMatrix
	Rows          []matrixRow
}

type matrixRow struct {
	Version string
	Cells   []matrixCell
}

type matrixCell struct {
	Cell *ingestv1.MatrixCell
	// Share is the class that colours the cell by its share of successful builds.
	Share string
	Title string
	Link  string
}

func matrixPage(r *http.Request, c Clients) (*Page, error) {
	q := r.URL.Query()
	d := matrixData{Package: q.Get("package"), Arch: q.Get("arch")}
	if d.Package == "" {
		return &Page{Template: "matrix", Title: "Build matrix", Data: d}, nil
	}
	m, err := c.Ingest.GetBuildMatrix(r.Context(), &ingestv1.GetBuildMatrixRequest{Package: d.Package, Arch: d.Arch})
	if err != nil {
		return nil, err
	}
	d.Matrix = m
	type key struct{ version, compiler string }
	cells := map[key]*ingestv1.MatrixCell{}
	for _, cell := range m.GetCells() {
		cells[key{cell.GetVersion(), cell.GetCompiler()}] = cell
	}
	for _, v := range m.GetVersions() {
		row := matrixRow{Version: v}
		for _, comp := range m.GetCompilers() {
			row.Cells = append(row.Cells, newMatrixCell(d.Package, cells[key{v, comp}]))
		}
		d.Rows = append(d.Rows, row)
	}
	return &Page{Template: "matrix", Title: "Build matrix of " + d.Package, Data: d}, nil
}

func newMatrixCell(pkg string, c *ingestv1.MatrixCell) matrixCell {
	if c == nil {
		return matrixCell{}
	}
	total := c.GetSuccess() + c.GetFailed() + c.GetCancelled() + c.GetNotrun()
	mc := matrixCell{Cell: c, Share: "share-none"}
	if done := c.GetSuccess() + c.GetFailed() + c.GetCancelled(); done > 0 {
		// Five steps of the share of finished builds that succeeded.
		mc.Share = fmt.Sprintf("share-%d", c.GetSuccess()*4/done)
	}
	mc.Title = fmt.Sprintf("%s: %d succeeded, %d failed, %d cancelled, %d not run; %d failed concretizations",
		count(total, "build"), c.GetSuccess(), c.GetFailed(), c.GetCancelled(), c.GetNotrun(), c.GetFailedConcretization())
	mc.Link = "/?" + url.Values{"package": {pkg}, "version": {c.GetVersion()}, "compiler": {c.GetCompiler()}}.Encode()
	return mc
}
