package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
	"github.com/spackmon/spackmon/pkg/signing"
)

// serveProcess is spackmon serve running as its own process of the binary, with a user
// and a realm token, for tests that signal, kill and restart it.
type serveProcess struct {
	*testServer
	proc    *proctest.Process
	sockets *proctest.Sockets
	env     []string
}

// startServeProcess runs serve with env (which names its store) on loopback sockets of its
// own, with the user spackuser made by the CLI beforehand.
func startServeProcess(t *testing.T, bin string, env ...string) *serveProcess {
	t.Helper()
	env = append(os.Environ(), append([]string{"SPACKMON_LOG_LEVEL=warn"}, env...)...)
	apiToken := proctest.AddUser(t, bin, env, "spackuser")
	sockets := proctest.Listen(t, "http", "grpc")
	p := &serveProcess{sockets: sockets, env: env}
	p.proc = proctest.Start(t, bin, env, sockets, "serve")
	url := "http://" + sockets.Addr("http")
	proctest.WaitReady(t, url)
	p.testServer = &testServer{URL: url, prefix: "/ms1", client: &http.Client{Timeout: time.Minute},
		user: "spackuser", apiToken: apiToken, realm: url + "/auth/token/"}
	p.bearer = p.token(t, p.user, p.apiToken, "")
	return p
}

// restart starts the stopped or killed process again on its sockets; the realm token it
// issued before still holds (its key is in the data dir).
func (p *serveProcess) restart(t *testing.T) {
	t.Helper()
	p.proc.Restart()
	proctest.WaitReady(t, p.URL)
}

// phaseNames are the names of the phases stored for the build.
func (p *serveProcess) phaseNames(t *testing.T, build int64) map[string]bool {
	t.Helper()
	a := p.get(t, fmt.Sprintf("/api/v1/builds/%d", build))
	if a.Status != http.StatusOK {
		t.Fatalf("build %d: %d %s", build, a.Status, a.Body)
	}
	names := map[string]bool{}
	phases, _ := a.JSON(t)["phases"].([]any)
	for _, ph := range phases {
		name, _ := path(ph, "name").(string)
		names[name] = true
	}
	return names
}

// phaseBody is a phase post of a log of about size bytes, with warnings and an error in it.
func phaseBody(build int64, name string, size int) []byte {
	var log strings.Builder
	for i := 0; log.Len() < size; i++ {
		fmt.Fprintf(&log, "libtool: compile: gcc -O2 -c src/unit%d.c -o unit%d.o\n", i, i)
		if i%97 == 0 {
			fmt.Fprintf(&log, "src/unit%d.c:12:5: warning: unused variable 'x' [-Wunused-variable]\n", i)
		}
	}
	log.WriteString("src/last.c:3:1: error: expected ';' before '}' token\n")
	body := fmt.Sprintf(`{"build_id": %d, "phase_name": %q, "status": "SUCCESS", "output": %q}`, build, name, log.String())
	return []byte(body)
}

// outcome is how one request ended: an HTTP status, or the error of a request that got none.
type outcome struct {
	name   string
	status int
	err    error
	// envelope tells whether a refusal came as the protocol's {message, data, code}, with
	// Retry-After.
	envelope bool
}

// postPhase posts one phase and says how it ended.
func (p *serveProcess) postPhase(client *http.Client, build int64, name string, size int) outcome {
	req, err := http.NewRequest(http.MethodPost, p.URL+"/ms1/builds/phases/update/", bytes.NewReader(phaseBody(build, name, size)))
	if err != nil {
		return outcome{name: name, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+p.bearer)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return outcome{name: name, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return outcome{name: name, status: resp.StatusCode, err: err}
	}
	return outcome{name: name, status: resp.StatusCode,
		envelope: isEnvelope(data, resp.StatusCode) && resp.Header.Get("Retry-After") != ""}
}

// isEnvelope reports whether body is the protocol's error envelope for status.
func isEnvelope(body []byte, status int) bool {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return false
	}
	msg, _ := m["message"].(string)
	return msg != "" && fmt.Sprint(m["code"]) == fmt.Sprint(status)
}

// An acknowledged write survives a crash: serve on SQLite is killed (SIGKILL, no chance to
// flush anything) right after each 200/201, started again, and has the spec, the build,
// the phase with its whole log, and the analysis.
func TestAcknowledgedWriteSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	p := startServeProcess(t, bin, "SPACKMON_DATA_DIR="+t.TempDir())

	wantEnvelope(t, p.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	p.proc.Kill()
	p.restart(t)
	if a := p.get(t, "/api/v1/specs/"+singularityHash); a.Status != http.StatusOK {
		t.Fatalf("spec after the kill: %d %s", a.Status, a.Body)
	}

	m := wantEnvelope(t, p.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "")
	id := num(t, path(m, "data", "build", "build_id"))
	p.proc.Kill()
	p.restart(t)
	if a := p.get(t, fmt.Sprintf("/api/v1/builds/%d", id)); a.Status != http.StatusOK {
		t.Fatalf("build after the kill: %d %s", a.Status, a.Body)
	}

	body := phaseBody(id, "install", 256<<10)
	wantEnvelope(t, p.post(t, "/ms1/builds/phases/update/", body), http.StatusOK, "")
	p.proc.Kill()
	p.restart(t)
	a := p.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/install/output", id))
	var sent map[string]any
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusOK || string(a.Body) != sent["output"] {
		t.Fatalf("phase log after the kill: %d, %d bytes, want %d", a.Status, len(a.Body), len(sent["output"].(string)))
	}

	wantEnvelope(t, analyze(t, p.testServer, id, map[string]any{"environment_variables": map[string]string{"SPACK_CC": "gcc"}}), http.StatusOK, "")
	p.proc.Kill()
	p.restart(t)
	a = p.get(t, fmt.Sprintf("/api/v1/builds/%d/environment", id))
	if vars, _ := a.JSON(t)["variables"].([]any); len(vars) != 1 || path(vars[0], "value") != "gcc" {
		t.Fatalf("environment after the kill: %s", a.Body)
	}
}

// A SIGTERM in the middle of a burst of phase posts: the requests the server had begun are
// finished and answered 2xx, and stored; the others are refused before their bodies are
// read (no connection, or 503), and not stored; the process exits 0.
//
// Some requests are known to be in flight at the signal: they ask for 100-continue, and
// have their body's second half sent only once the server, told to stop, has closed its
// listener. They must still be answered 2xx.
func TestShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	p := startServeProcess(t, bin, "SPACKMON_DATA_DIR="+t.TempDir(), "SPACKMON_SHUTDOWN_TIMEOUT=60")
	build := newBuild(t, p.testServer)

	const inFlight = 4
	slow := make([]*halfSent, inFlight)
	for i := range slow {
		slow[i] = p.startHalfSent(t, build, fmt.Sprintf("inflight-%d", i))
	}
	for _, h := range slow {
		h.waitReading(t)
	}

	const burst, workers = 64, 8
	jobs := make(chan string, burst)
	for i := range burst {
		jobs <- fmt.Sprintf("burst-%02d", i)
	}
	close(jobs)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var answered atomic.Int64
	started := make(chan struct{}) // closed once some of the burst are answered
	var startOnce sync.Once
	outcomes := make(chan outcome, burst)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for name := range jobs {
				o := p.postPhase(client, build, name, 32<<10)
				outcomes <- o
				if o.err == nil && answered.Add(1) == workers {
					startOnce.Do(func() { close(started) })
				}
			}
		})
	}
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- p.proc.Terminate(2 * time.Minute) }()
	waitRefused(t, p.sockets.Addr("http"))
	for _, h := range slow {
		h.finish()
	}
	wg.Wait()
	close(outcomes)
	if err := <-stopped; err != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit status 0", err)
	}

	p.restart(t)
	stored := p.phaseNames(t, build)
	for _, h := range slow {
		o := h.outcome()
		if o.err != nil || o.status != http.StatusOK || !stored[o.name] {
			t.Errorf("%s, in flight at the signal: %d %v, stored %v; want 200 and stored", o.name, o.status, o.err, stored[o.name])
		}
	}
	var acked, refused int
	for o := range outcomes {
		switch {
		case o.err == nil && o.status/100 == 2:
			acked++
			if !stored[o.name] {
				t.Errorf("%s acknowledged %d but not stored", o.name, o.status)
			}
		case o.err == nil && o.status == http.StatusServiceUnavailable && o.envelope, o.err != nil && o.status == 0:
			refused++
			if stored[o.name] {
				t.Errorf("%s stored, but its client got %d %v: an answer was cut off", o.name, o.status, o.err)
			}
		default:
			t.Errorf("%s: %d %v (envelope %v), want 2xx, 503 with the envelope, or no connection", o.name, o.status, o.err, o.envelope)
		}
	}
	if refused == 0 {
		t.Errorf("none of the burst was refused: the signal did not fall in the middle of it")
	}
	t.Logf("burst of %d: %d acknowledged and stored, %d refused and not stored; the %d in flight at the signal were answered 200", burst, acked, refused, inFlight)
}

// halfSent is a phase post whose body is sent in two halves, the second when the test says.
type halfSent struct {
	name    string
	second  []byte
	w       *io.PipeWriter
	reading chan struct{} // closed when the server asks for the body (100 Continue)
	done    chan outcome
}

// startHalfSent starts a phase post that announces its body (Expect: 100-continue) and
// sends its first half once the server's handler reads it.
func (p *serveProcess) startHalfSent(t *testing.T, build int64, name string) *halfSent {
	t.Helper()
	body := phaseBody(build, name, 64<<10)
	r, w := io.Pipe()
	h := &halfSent{name: name, second: body[len(body)/2:], w: w, reading: make(chan struct{}), done: make(chan outcome, 1)}
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(h.reading) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
		http.MethodPost, p.URL+"/ms1/builds/phases/update/", r)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", "Bearer "+p.bearer)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	// Its own connection, which waits for the 100 as long as the test needs.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			h.done <- outcome{name: name, err: err}
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s", data)
		}
		h.done <- outcome{name: name, status: resp.StatusCode, err: err}
	}()
	go func() {
		<-h.reading
		_, _ = w.Write(body[:len(body)/2])
	}()
	return h
}

// waitReading waits until the server's handler reads the body.
func (h *halfSent) waitReading(t *testing.T) {
	t.Helper()
	select {
	case <-h.reading:
	case o := <-h.done:
		t.Fatalf("%s ended before its body was asked for: %d %v", h.name, o.status, o.err)
	}
}

// finish sends the second half of the body.
func (h *halfSent) finish() {
	go func() {
		_, _ = h.w.Write(h.second)
		h.w.Close()
	}()
}

func (h *halfSent) outcome() outcome { return <-h.done }

// waitRefused waits until addr refuses connections: the server has closed its listener.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
	}
	t.Fatalf("%s still takes connections a minute after SIGTERM", addr)
}

// PostgreSQL stopped and started again under a steady stream of phase posts: in the gap the
// posts get 503 with the protocol's envelope and Retry-After (never a 500 or a dropped
// connection), the same spackmon process serves again once the database is back, and every
// post acknowledged before, during or after is stored.
func TestPostgresRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a PostgreSQL cluster")
	}
	bin := proctest.Build(t)
	cluster := pgtest.NewCluster(t)
	p := startServeProcess(t, bin, "SPACKMON_DATA_DIR="+t.TempDir(), "SPACKMON_DATABASE_URL="+cluster.URL())
	build := newBuild(t, p.testServer)

	// Phases posted by workers until told to stop; acks, refusals and answers since the
	// restart are counted as they come, to move the test on.
	var mu sync.Mutex
	var outcomes []outcome
	var refusedSeen, ackedSinceStart atomic.Int64
	var restarted atomic.Bool
	progress := make(chan struct{}, 1)
	stop := make(chan struct{})
	wait := p.postPhasesUntil(stop, build, "pg", 8<<10, func(o outcome) bool {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
		switch {
		case o.status == http.StatusServiceUnavailable:
			refusedSeen.Add(1)
		case o.err == nil && o.status/100 == 2 && restarted.Load():
			ackedSinceStart.Add(1)
		}
		select {
		case progress <- struct{}{}:
		default:
		}
		return true
	})
	// waitFor waits, answer by answer, until cond holds; the deadline bounds a failing test.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(2 * time.Minute)
		for !cond() {
			select {
			case <-progress:
			case <-deadline:
				close(stop)
				wait()
				t.Fatalf("waiting for %s", what)
			}
		}
	}
	waitFor("posts acknowledged before the stop", func() bool { mu.Lock(); defer mu.Unlock(); return len(outcomes) >= 20 })
	cluster.Stop()
	waitFor("refusals while the database is down", func() bool { return refusedSeen.Load() >= 5 })
	cluster.Start()
	restarted.Store(true)
	waitFor("acknowledgements after the database is back", func() bool { return ackedSinceStart.Load() >= 20 })
	close(stop)
	wait()

	stored := p.phaseNames(t, build)
	var acked, refused int
	for _, o := range outcomes {
		switch {
		case o.err == nil && o.status/100 == 2:
			acked++
			if !stored[o.name] {
				t.Errorf("%s acknowledged %d but not stored", o.name, o.status)
			}
		case o.err == nil && o.status == http.StatusServiceUnavailable && o.envelope:
			refused++
		default:
			t.Errorf("%s: %d %v (envelope and Retry-After: %v), want 2xx or 503 with the envelope and Retry-After", o.name, o.status, o.err, o.envelope)
		}
	}
	t.Logf("%d posts: %d acknowledged and stored, %d refused with 503 while PostgreSQL was down", len(outcomes), acked, refused)
}

// spackmon backup while serve on SQLite takes phase posts: serve --data-dir on the copy
// has every write acknowledged before the backup started (phases, the analysis, the user),
// and accepts the realm tokens of the original, whose key was copied too.
func TestBackupWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	dataDir := t.TempDir()
	p := startServeProcess(t, bin, "SPACKMON_DATA_DIR="+dataDir)
	build := newBuild(t, p.testServer)
	wantEnvelope(t, analyze(t, p.testServer, build, map[string]any{"environment_variables": map[string]string{"SPACK_CC": "gcc"}}), http.StatusOK, "")

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	wait := p.postPhasesUntil(stop, build, "b", 16<<10, func(o outcome) bool {
		if o.err != nil || o.status != http.StatusOK {
			t.Errorf("%s: %d %v", o.name, o.status, o.err)
			return false
		}
		mu.Lock()
		acked[o.name] = true
		mu.Unlock()
		return true
	})
	// Some writes first, then the backup while they go on.
	for deadline, ready := time.Now().Add(2*time.Minute), false; !ready; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		ready = len(acked) >= 20
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the writes before the backup were not acknowledged")
		}
	}
	mu.Lock()
	before := maps.Clone(acked)
	mu.Unlock()
	backupDir := filepath.Join(t.TempDir(), "backup")
	proctest.Run(t, bin, p.env, "backup", backupDir)
	close(stop)
	wait()

	sockets := proctest.Listen(t, "http", "grpc")
	proctest.Start(t, bin, p.env, sockets, "serve", "--data-dir", backupDir)
	cp := *p.testServer
	cp.URL = "http://" + sockets.Addr("http")
	proctest.WaitReady(t, cp.URL)
	copied := &serveProcess{testServer: &cp}
	stored := copied.phaseNames(t, build)
	for name := range before {
		if !stored[name] {
			t.Errorf("%s, acknowledged before the backup, is not in the copy", name)
		}
	}
	a := cp.get(t, fmt.Sprintf("/api/v1/builds/%d/environment", build))
	if vars, _ := a.JSON(t)["variables"].([]any); len(vars) != 1 || path(vars[0], "value") != "gcc" {
		t.Errorf("environment in the copy: %s", a.Body)
	}
	// The user's API token gets a realm token from the copy, which writes.
	cp.bearer = cp.token(t, cp.user, cp.apiToken, "")
	if o := copied.postPhase(&http.Client{Timeout: time.Minute}, build, "after-restore", 1<<10); o.err != nil || o.status != http.StatusOK {
		t.Errorf("a write to the copy: %d %v", o.status, o.err)
	}
	// The realm signs with the same key as before.
	orig, err1 := os.ReadFile(filepath.Join(dataDir, signing.KeyFileName))
	keyCopy, err2 := os.ReadFile(filepath.Join(backupDir, signing.KeyFileName))
	if err1 != nil || err2 != nil || !bytes.Equal(orig, keyCopy) {
		t.Errorf("the copy's signing key is not the original's (%v, %v)", err1, err2)
	}
	t.Logf("%d phases acknowledged before the backup, %d in the copy, %d acknowledged in all", len(before), len(stored), len(acked))
}

// postPhasesUntil posts phases named prefix-0001, prefix-0002... from four workers until
// stop is closed or record, told how each ended, returns false; wait waits for them.
func (p *serveProcess) postPhasesUntil(stop <-chan struct{}, build int64, prefix string, size int, record func(outcome) bool) (wait func()) {
	client := &http.Client{Timeout: time.Minute}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !record(p.postPhase(client, build, fmt.Sprintf("%s-%04d", prefix, next.Add(1)), size)) {
					return
				}
			}
		})
	}
	return wg.Wait
}
