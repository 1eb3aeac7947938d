package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/spackmon/spackmon/pkg/proctest"
)

// phaseStream is a phase update body of about size bytes made as it is read: the test
// process cannot hold 64 logs of 256 MiB, and neither should the server.
type phaseStream struct {
	head, tail string
	line       string // JSON-escaped
	left       int    // bytes of lines still to give
	pos        int    // position in head, then in the line being given, then in tail
	stage      int
}

func newPhaseStream(id int64, size int) *phaseStream {
	head := fmt.Sprintf(`{"build_id": %d, "phase_name": "build", "status": "ERROR", "output": "`, id)
	line := `/usr/bin/gcc -O2 -c widget.c -o widget.o\nwidget.c:12:3: warning: unused variable \u0027x\u0027\n`
	return &phaseStream{head: head, tail: `"}`, line: line, left: size / len(line) * len(line)}
}

func (s *phaseStream) length() int64 { return int64(len(s.head) + s.left + len(s.tail)) }

func (s *phaseStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case s.stage == 0:
			c := copy(p[n:], s.head[s.pos:])
			n, s.pos = n+c, s.pos+c
			if s.pos == len(s.head) {
				s.stage, s.pos = 1, 0
			}
		case s.stage == 1 && s.left > 0:
			c := copy(p[n:], s.line[s.pos:])
			n, s.pos, s.left = n+c, (s.pos+c)%len(s.line), s.left-c
		case s.stage == 1:
			s.stage, s.pos = 2, 0
		case s.pos < len(s.tail):
			c := copy(p[n:], s.tail[s.pos:])
			n, s.pos = n+c, s.pos+c
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// What serve may cost at its peak while 64 clients post 256 MiB logs at once, the body
// limit: a streamed log is held once, by ingest, and the bytes in flight bound how many are
// held together (the default 32 MiB admits one such log at a time: it is always admitted
// alone). Whole bodies decoded and copied between gateway and ingest cost about 1 GiB for
// one such log (1026 MiB measured before streaming; 524 MiB after, the rest being the
// log's chunks as garbage until the collector runs).
const maxHugePhasesRSS = 640 << 20

// Clients that post the largest logs allowed, all at once and without pause, leave serve's
// memory bounded by its configuration: each post is answered 200 or 503, and the peak RSS
// of the real process stays under maxHugePhasesRSS.
func TestHugePhaseStreamsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and posts 64 logs of 256 MiB at once")
	}
	const clients, logSize = 64, 256 << 20
	// One such log takes serve seconds; a wait shorter than the default minute still
	// admits some of the waiting posts after the first (two or three logs one after the
	// other rather than a dozen), and spares the test a minute and more.
	srv, proc := startMeasuredServe(t, proctest.Build(t), "SPACKMON_INFLIGHT_WAIT=10s")
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := map[int]int{}
	for range clients {
		wg.Go(func() {
			body := newPhaseStream(id, logSize-1024)
			a, err := srv.postPhase(body, body.length())
			if err != nil {
				t.Error(err)
				return
			}
			if a.Status != http.StatusOK && a.Status != http.StatusServiceUnavailable {
				t.Errorf("phase: %d %s", a.Status, a.Body)
			}
			mu.Lock()
			answered[a.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	rss := proc.Stop(t)
	t.Logf("%d clients posting %d MiB logs at once: %v; peak RSS %d MiB", clients, logSize>>20, answered, rss>>20)
	if answered[http.StatusOK] == 0 {
		t.Error("no log was taken")
	}
	if rss > maxHugePhasesRSS {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, maxHugePhasesRSS>>20)
	}
}

// A streamed log is stored as the client sent it, escapes decoded, with its events.
func TestPhaseStreamStoresTheLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, proc := startMeasuredServe(t, proctest.Build(t))
	defer proc.Stop(t)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	body := newPhaseStream(id, 3<<20)
	a, err := srv.postPhase(body, body.length())
	if err != nil {
		t.Fatal(err)
	}
	wantEnvelope(t, a, http.StatusOK, "")
	out := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output", id))
	want := strings.Repeat("/usr/bin/gcc -O2 -c widget.c -o widget.o\nwidget.c:12:3: warning: unused variable 'x'\n", (3<<20)/len(body.line))
	if string(out.Body) != want {
		t.Errorf("stored log: %d bytes, want %d", len(out.Body), len(want))
	}
}
