package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
)

// workload is what the load sends: spec DAGs, phase logs and analyses made from real
// Spack documents.
type workload struct {
	specs        *universe
	logs         phaseText
	install      *installTemplate
	failRate     float64 // the share of builds whose build phase fails
	logMin       int     // bounds of a phase log's size
	logMax       int
	spackVersion string
}

func loadWorkload(testdata string, failRate float64, spackVersion string) (*workload, error) {
	u, err := loadUniverse(filepath.Join(testdata, "specs", "singularity-3.8.0.json"))
	if err != nil {
		return nil, err
	}
	logs, err := loadPhaseText(filepath.Join(testdata, "dummy-tar-spack", "spack-build-out.txt"))
	if err != nil {
		return nil, err
	}
	install, err := loadInstallTemplate(filepath.Join(testdata, "dummy-tar-spack"))
	if err != nil {
		return nil, err
	}
	return &workload{specs: u, logs: logs, install: install, failRate: failRate, spackVersion: spackVersion,
		logMin: minLogBytes, logMax: maxLogBytes}, nil
}

// Bounds of a spec DAG's node count.
const (
	minDAGNodes = 5
	maxDAGNodes = 150
)

// buildEnv is the body of builds/new, its fields in the order Spack writes them.
type buildEnv struct {
	HostOS        string `json:"host_os"`
	Platform      string `json:"platform"`
	HostTarget    string `json:"host_target"`
	Hostname      string `json:"hostname"`
	SpackVersion  string `json:"spack_version"`
	KernelVersion string `json:"kernel_version"`
	FullHash      string `json:"full_hash"`
	Tags          string `json:"tags"`
}

type phaseUpdate struct {
	BuildID   int64  `json:"build_id"`
	Status    string `json:"status"`
	Output    string `json:"output"`
	PhaseName string `json:"phase_name"`
}

type buildUpdate struct {
	BuildID int64  `json:"build_id"`
	Status  string `json:"status"`
}

type analysis struct {
	BuildID  int64          `json:"build_id"`
	Metadata map[string]any `json:"metadata"`
}

// specRun is one spec's workflow, as `spack install --monitor` and then
// `spack analyze --monitor run` send it: service info, the spec DAG, a build of its root,
// its phases (the build phase failing for some), its status, and for a successful build the
// three analyses. host names the machine; id makes the DAG's root unique in the run.
func (w *workload) specRun(ctx context.Context, c *spackClient, rng *rand.Rand, host, id string) error {
	if err := c.getServiceInfo(ctx); err != nil {
		return err
	}
	d := w.specs.newDAG(rng, minDAGNodes+rng.IntN(maxDAGNodes-minDAGNodes+1), id)
	if _, err := c.post(ctx, "/ms1/specs/new/", map[string]any{"spec": d.doc, "spack_version": w.spackVersion},
		http.StatusCreated, http.StatusOK); err != nil {
		return err
	}
	answer, err := c.post(ctx, "/ms1/builds/new/", buildEnv{HostOS: "ubuntu20.04", Platform: "linux", HostTarget: "skylake",
		Hostname: host, SpackVersion: w.spackVersion, KernelVersion: "#73-Ubuntu SMP Mon Jan 18 17:25:17 UTC 2021",
		FullHash: d.rootHash, Tags: "load"}, http.StatusCreated, http.StatusOK)
	if err != nil {
		return err
	}
	buildID, err := buildIDOf(answer)
	if err != nil {
		return err
	}
	failed := rng.Float64() < w.failRate
	for _, phase := range phaseNames {
		fail := failed && phase == "build"
		status := "SUCCESS"
		if fail {
			status = "ERROR"
		}
		out := w.logs.phaseLog(rng, d.rootName, phase, logSize(rng, w.logMin, w.logMax), fail)
		if _, err := c.post(ctx, "/ms1/builds/phases/update/", phaseUpdate{buildID, status, out, phase}, http.StatusOK); err != nil {
			return err
		}
		if fail {
			break // Spack stops at the failing phase
		}
	}
	status := "SUCCESS"
	if failed {
		status = "FAILED"
	}
	if _, err := c.post(ctx, "/ms1/builds/update/", buildUpdate{buildID, status}, http.StatusOK); err != nil {
		return err
	}
	if failed {
		return nil
	}
	prefix := fmt.Sprintf("/opt/spack/opt/spack/linux-ubuntu20.04-skylake/gcc-9.3.0/%s-%s-%s", d.rootName, d.rootVer, d.rootHash)
	for _, m := range w.install.metadata(prefix) {
		if _, err := c.post(ctx, "/ms1/analyze/builds/", analysis{buildID, m}, http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

// buildIDOf reads data.build.build_id from builds/new's envelope.
func buildIDOf(envelope map[string]any) (int64, error) {
	data, _ := envelope["data"].(map[string]any)
	build, _ := data["build"].(map[string]any)
	id, ok := build["build_id"].(float64)
	if !ok || id <= 0 {
		return 0, fmt.Errorf("builds/new: no build_id in %v", envelope)
	}
	return int64(id), nil
}
