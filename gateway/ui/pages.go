package ui

// registerPages maps every page's URL to its handler. The URLs are part of the contract
// (issue 11): keep them stable.
func registerPages(u *UI) {
	u.Handle("GET /{$}", dashboard)
	u.Handle("GET /builds/{id}", buildPage)
	u.Handle("GET /builds/{id}/phases/{name}", phasePage)
}
