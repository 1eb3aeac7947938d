package ui

// registerPages maps every page's URL to its handler. The URLs are part of the contract
// (issue 11): keep them stable.
func registerPages(u *UI) {
	u.Handle("GET /{$}", dashboard)
	u.Handle("GET /builds/{id}", buildPage)
	u.Handle("GET /builds/{id}/phases/{name}", phasePage)
	u.Handle("GET /builds/{id}/phases/{name}/grep", grepPage)
	u.Handle("GET /specs/{full_hash}", specPage)
	u.Handle("GET /specs/diff", specDiffPage)
	u.Handle("GET /matrix", matrixPage)
	u.Handle("GET /analysis", analysisPage)
	u.Handle("GET /analysis/diff", analysisDiffPage)
	u.Handle("GET /failures", failuresPage)
	u.registerCauses()
	u.Handle("GET /compare", comparePage)
	u.Handle("GET /splice", splicePage)
}
