package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// phaseUpdateOf is a phase update of build id whose log is about size bytes.
func phaseUpdateOf(t testing.TB, id int64, phase string, size int) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{"build_id": id, "phase_name": phase, "status": "SUCCESS",
		"output": strings.Repeat("compiling a file of the build\n", size/30)})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// postPhase posts body, as a stream of unknown length when chunked.
func (s *testServer) postPhase(body io.Reader, length int64) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/ms1/builds/phases/update/", body)
	if err != nil {
		return answer{}, err
	}
	req.ContentLength = length
	req.Header = spackForm()
	req.Header.Set("Authorization", "Bearer "+s.bearer)
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, err
}

func wantBusy(t *testing.T, a answer) {
	t.Helper()
	wantEnvelope(t, a, http.StatusServiceUnavailable, "")
	if a.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", a.Header)
	}
}

// While one large body is being received, another that would take the bytes in flight
// past SPACKMON_INFLIGHT_BODY_BYTES is answered 503 with Retry-After (at once, with no
// SPACKMON_INFLIGHT_WAIT), whether its length is declared or not; a small one is taken; once
// the large one is answered the other is too. A phase log is charged twice its size.
func TestInflightBodyBytes(t *testing.T) {
	const bound = 2 << 20
	srv := startServe(t, config.Database{DataDir: t.TempDir()}, func(c *serveConfig) {
		c.Limits.InflightBodyBytes, c.Limits.InflightWait = bound, 0
	})
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))

	large := phaseUpdateOf(t, id, "configure", 700<<10)
	pr, pw := io.Pipe()
	largeDone := make(chan answer, 1)
	go func() {
		a, err := srv.postPhase(pr, int64(len(large)))
		if err != nil {
			t.Error(err)
		}
		largeDone <- a
	}()
	if _, err := pw.Write(large[:1024]); err != nil {
		t.Fatal(err)
	}

	other := phaseUpdateOf(t, id, "build", 500<<10)
	var busy answer
	for deadline := time.Now().Add(time.Minute); ; {
		a, err := srv.postPhase(strings.NewReader(string(other)), int64(len(other)))
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == http.StatusServiceUnavailable {
			busy = a
			break
		}
		wantEnvelope(t, a, http.StatusOK, "")
		if time.Now().After(deadline) {
			t.Fatal("the large body was never taken in")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantBusy(t, busy)
	// Of unknown length: refused once what arrived goes past the bound.
	chunked, err := srv.postPhase(io.MultiReader(strings.NewReader(string(other))), -1)
	if err != nil {
		t.Fatal(err)
	}
	wantBusy(t, chunked)
	small := phaseUpdateOf(t, id, "install", 10<<10)
	if a, err := srv.postPhase(strings.NewReader(string(small)), int64(len(small))); err != nil {
		t.Fatal(err)
	} else {
		wantEnvelope(t, a, http.StatusOK, "")
	}

	if _, err := pw.Write(large[1024:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	wantEnvelope(t, <-largeDone, http.StatusOK, "")
	for _, length := range []int64{int64(len(other)), -1} {
		a, err := srv.postPhase(io.MultiReader(strings.NewReader(string(other))), length)
		if err != nil {
			t.Fatal(err)
		}
		wantEnvelope(t, a, http.StatusOK, "")
	}
	// A body larger than the bound is taken when it is alone.
	huge := phaseUpdateOf(t, id, "configure", bound)
	if a, err := srv.postPhase(strings.NewReader(string(huge)), int64(len(huge))); err != nil {
		t.Fatal(err)
	} else {
		wantEnvelope(t, a, http.StatusOK, "")
	}
}

// Many clients posting large phase logs at once, with and without the bound on bytes in
// flight: every post ends in 200 (clients retry a 503 after its Retry-After), and the test
// logs the peak RSS of the real serve process for each.
func TestInflightBodyMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and posts 64 logs of 4 MiB at once, twice")
	}
	const clients, logSize = 64, 4 << 20
	bin := proctest.Build(t)
	for _, bound := range []string{"16777216", "0"} {
		t.Run("bound="+bound, func(t *testing.T) {
			srv, proc := startMeasuredServe(t, bin, "SPACKMON_INFLIGHT_BODY_BYTES="+bound)
			wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
			var wg sync.WaitGroup
			var mu sync.Mutex
			refused := 0
			for i := range clients {
				wg.Go(func() {
					build := maps.Clone(buildEnv)
					build["hostname"] = fmt.Sprint("builder", i)
					a, err := srv.send(http.MethodPost, "/ms1/builds/new/", mustJSON(t, build), spackForm())
					if err != nil || a.Status >= 300 {
						t.Errorf("new build: %v %d %s", err, a.Status, a.Body)
						return
					}
					id, err := createdBuildID(a.Body)
					if err != nil {
						t.Error(err)
						return
					}
					body := phaseUpdateOf(t, id, "build", logSize)
					for {
						a, err := srv.send(http.MethodPost, "/ms1/builds/phases/update/", body, spackForm())
						if err != nil {
							t.Error(err)
							return
						}
						if a.Status != http.StatusServiceUnavailable {
							if a.Status != http.StatusOK {
								t.Errorf("phase: %d %s", a.Status, a.Body)
							}
							return
						}
						if a.Header.Get("Retry-After") == "" {
							t.Errorf("503 without Retry-After: %s", a.Body)
							return
						}
						mu.Lock()
						refused++
						mu.Unlock()
						time.Sleep(time.Second)
					}
				})
			}
			wg.Wait()
			rss := proc.Stop(t)
			t.Logf("%d clients posting %d MiB logs, SPACKMON_INFLIGHT_BODY_BYTES=%s: peak RSS %d MiB, %d posts answered 503 first", clients, logSize>>20, bound, rss>>20, refused)
			if bound != "0" && rss > maxPeakRSS {
				t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, maxPeakRSS>>20)
			}
		})
	}
}

// createdBuildID is the build id of a builds/new answer, for the goroutines that may not
// stop the test (num and path fail it).
func createdBuildID(body []byte) (int64, error) {
	var created struct {
		Data struct {
			Build struct {
				ID int64 `json:"build_id"`
			} `json:"build"`
		} `json:"data"`
	}
	err := json.Unmarshal(body, &created)
	return created.Data.Build.ID, err
}
