package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"
)

// The write path through the whole stack (HTTP gateway, gRPC, service, store) on each store.
func BenchmarkGateway(b *testing.B) {
	spec := readTestdata(b, "specs", "singularity-3.8.0.json")
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			srv := startServe(b, be.database(b), nil)
			// The spec every build below is of; each sub-benchmark can run alone.
			srv.post(b, "/ms1/specs/new/", specBody(spec, "1.0.0"))
			b.Run("specs-new/new-55-nodes", func(b *testing.B) {
				// A fresh spack version makes all 55 nodes new on every upload.
				for i := 0; b.Loop(); i++ {
					wantCode(b, srv.post(b, "/ms1/specs/new/", specBody(spec, fmt.Sprintf("bench-%d", i))), http.StatusCreated)
				}
			})
			b.Run("specs-new/repeat-55-nodes", func(b *testing.B) {
				body := specBody(spec, "1.0.0")
				for b.Loop() {
					wantCode(b, srv.post(b, "/ms1/specs/new/", body), http.StatusOK)
				}
			})
			b.Run("builds-new", func(b *testing.B) {
				env := maps.Clone(buildEnv)
				for i := 0; b.Loop(); i++ {
					env["hostname"] = fmt.Sprintf("host-%d", i)
					wantCode(b, srv.post(b, "/ms1/builds/new/", env), http.StatusCreated)
				}
			})
			b.Run("analyze-20k-files", func(b *testing.B) {
				m := srv.post(b, "/ms1/builds/new/", buildEnv).JSON(b)
				body, _ := json.Marshal(map[string]any{"build_id": num(b, path(m, "data", "build", "build_id")),
					"metadata": map[string]any{"install_files": bigManifest(20000)}})
				for b.Loop() {
					wantCode(b, srv.post(b, "/ms1/analyze/builds/", body), http.StatusOK)
				}
			})
			b.Run("phase-1MiB", func(b *testing.B) {
				m := srv.post(b, "/ms1/builds/new/", buildEnv).JSON(b)
				body, _ := json.Marshal(map[string]any{"build_id": num(b, path(m, "data", "build", "build_id")),
					"phase_name": "build", "status": "SUCCESS", "output": string(megabyteLog(b))})
				b.SetBytes(1 << 20)
				for b.Loop() {
					wantCode(b, srv.post(b, "/ms1/builds/phases/update/", body), http.StatusOK)
				}
			})
		})
	}
}

func specBody(spec []byte, spackVersion string) []byte {
	body, _ := json.Marshal(map[string]any{"spec": json.RawMessage(spec), "spack_version": spackVersion})
	return body
}

// megabyteLog is 1 MiB of real build log: config.log repeated.
func megabyteLog(b testing.TB) []byte {
	src := readTestdata(b, "dummy-tar-spack", "config.log")
	var out bytes.Buffer
	for out.Len() < 1<<20 {
		out.Write(src)
	}
	return out.Bytes()[:1<<20]
}

func wantCode(b testing.TB, a answer, status int) {
	if a.Status != status {
		b.Fatalf("status %d, want %d: %.300s", a.Status, status, a.Body)
	}
}

// What checking a token costs a write: the same small write with auth on and off, and the
// realm's token issue itself.
func BenchmarkAuth(b *testing.B) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"token", false}, {"disabled", true}} {
		b.Run("builds-update/"+mode.name, func(b *testing.B) {
			srv := startServe(b, backends[0].database(b), func(c *serveConfig) { c.DisableAuth = mode.disabled })
			srv.post(b, "/ms1/specs/new/", specBody(readTestdata(b, "specs", "singularity-3.8.0.json"), "1.0.0"))
			id := num(b, path(srv.post(b, "/ms1/builds/new/", buildEnv).JSON(b), "data", "build", "build_id"))
			body, _ := json.Marshal(map[string]any{"build_id": id, "status": "SUCCESS"})
			for b.Loop() {
				wantCode(b, srv.post(b, "/ms1/builds/update/", body), http.StatusOK)
			}
		})
	}
	b.Run("auth-token", func(b *testing.B) {
		srv := startServe(b, backends[0].database(b), nil)
		for b.Loop() {
			srv.token(b, srv.user, srv.apiToken, "")
		}
	})
}

// bigManifest is an install manifest of n files below one prefix, as Spack writes it.
func bigManifest(n int) map[string]any {
	const prefix = "/opt/spack/linux-ubuntu20.04-skylake/gcc-9.3.0/singularity-3.8.0-horgiy7swsitni32acyaplwfpbvpv4if"
	files := map[string]any{prefix + "/.spack": map[string]any{"type": "dir", "mode": 16877, "owner": 1000, "group": 1000}}
	for i := range n {
		files[fmt.Sprintf("%s/share/doc/%03d/file-%05d.txt", prefix, i%500, i)] = map[string]any{
			"type": "file", "mode": 33188, "owner": 1000, "group": 1000, "size": 1234 + i,
			"hash": fmt.Sprintf("%064x", i), "time": 1638987600.0,
		}
	}
	return files
}
