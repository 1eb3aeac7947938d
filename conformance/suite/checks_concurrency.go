package suite

import (
	"fmt"
	"net/http"
	"sync"
)

// concurrent is how many identical writes go out at once.
const concurrent = 8

// parallel sends n requests released together, so they reach the server at the same time.
func (t *T) parallel(n int, f func(i int) *Response) []*Response {
	out := make([]*Response, n)
	errs := make([]any, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A transport failure stops the check from its own goroutine: keep it to
			// report once all requests are back.
			defer func() { errs[i] = recover() }()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			panic(e)
		}
	}
	return out
}

// oneCreated checks that exactly one of the answers is 201 and the others 200.
func (t *T) oneCreated(answers []*Response) {
	created := 0
	for i, a := range answers {
		switch a.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("request %d: %s, want 201 or 200", i+1, a)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d answers were 201, want exactly 1", created, len(answers))
	}
}

func concurrency(r *runner, n *Node) {
	dep := r.pkg("together-dep", "1.0")
	root := r.pkg("together", "1.0", ref{dep.name, "full_hash", dep.fullHash})
	specOK := false
	r.check(n, fmt.Sprintf("%d identical specs/new at once: one 201, the others 200", concurrent), func(t *T) {
		body := r.specBody(nodesDoc(3, root, dep))
		tok := t.login()
		answers := t.parallel(concurrent, func(int) *Response { return t.post(r.route("/specs/new/"), body, bearerHeader(tok)) })
		t.oneCreated(answers)
		for _, a := range answers {
			if a.Status < 300 {
				t.wantSpec(t.envelope(a, a.Status, ""), root, map[string]string{dep.name: dep.fullHash})
			}
		}
		specOK = true
	})
	var buildID int64
	r.check(n, fmt.Sprintf("%d identical builds/new at once: one 201, one build id", concurrent), func(t *T) {
		t.Need(specOK, "the spec")
		body := r.buildEnv(root.fullHash, "conf-"+r.cfg.RunID+"-together")
		tok := t.login()
		answers := t.parallel(concurrent, func(int) *Response { return t.post(r.route("/builds/new/"), body, bearerHeader(tok)) })
		t.oneCreated(answers)
		ids := map[string]bool{}
		for _, a := range answers {
			if a.Status < 300 {
				v := at(t.envelope(a, a.Status, ""), "build", "build_id")
				ids[fmt.Sprint(v)] = true
				buildID, _ = intOf(v)
			}
		}
		if len(ids) != 1 {
			t.Errorf("the answers name %d different builds: %v", len(ids), sortedKeys(ids))
		}
	})
	r.check(n, fmt.Sprintf("%d identical phase updates at once: all 200, one phase", concurrent), func(t *T) {
		t.Need(buildID != 0, "the build")
		body := map[string]any{"build_id": buildID, "phase_name": "install", "status": "SUCCESS", "output": "installed\n"}
		tok := t.login()
		answers := t.parallel(concurrent, func(int) *Response { return t.post(r.route("/builds/phases/update/"), body, bearerHeader(tok)) })
		ids := map[string]bool{}
		for i, a := range answers {
			if a.Status != http.StatusOK {
				t.Errorf("request %d: %s, want 200", i+1, a)
				continue
			}
			ids[fmt.Sprint(at(t.envelope(a, http.StatusOK, ""), "build_phase", "id"))] = true
		}
		if len(ids) > 1 {
			t.Errorf("the answers name %d different phases: %v", len(ids), sortedKeys(ids))
		}
	})
}
