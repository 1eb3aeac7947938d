package service

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/junit"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// SubmitJUnit stores a JUnit report: Spack's as a build per package, any other as one
// build with its tests.
func (s *Server) SubmitJUnit(ctx context.Context, req *ingestv1.SubmitJUnitRequest) (*ingestv1.SubmitJUnitResponse, error) {
	who, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if len(req.GetReport()) > MaxCDashPartBytes {
		return nil, errs.New(errs.BodyTooLarge, "The report is larger than %d bytes.", MaxCDashPartBytes)
	}
	r, err := junit.Parse(req.GetReport())
	if err != nil {
		return nil, errs.New(errs.BadRequest, "Invalid JUnit report: %s", strings.TrimPrefix(err.Error(), junit.ErrMalformed.Error()+": "))
	}
	sum := md5.Sum(req.GetReport())
	var puts []store.CDashPart
	if r.Spack {
		puts, err = spackJUnit(req, r, hex.EncodeToString(sum[:]))
	} else {
		puts, err = genericJUnit(req, r, hex.EncodeToString(sum[:]))
	}
	if err != nil {
		return nil, err
	}
	resp := &ingestv1.SubmitJUnitResponse{}
	for _, p := range puts {
		res, err := s.store.PutCDashPart(ctx, who, p)
		if err != nil {
			return nil, err
		}
		s.changed(res.BuildID)
		b, err := s.store.GetBuild(ctx, res.BuildID)
		if err != nil {
			return nil, err
		}
		resp.Builds = append(resp.Builds, &ingestv1.JUnitBuild{BuildId: res.BuildID, BuildName: p.Key.BuildName,
			Status: b.Status, SpecFullHash: linked(res.SpecFullHash, p.Key), Tests: int64(len(p.Tests))})
	}
	return resp, nil
}

// linked is the stored spec a build was linked to, "" for its own spec row.
func linked(fullHash string, k store.CDashKey) string {
	if fullHash == store.PlaceholderHash(k) {
		return ""
	}
	return fullHash
}

// junitKey checks the names of a JUnit build.
func junitKey(project, site, buildName, stamp string) (store.CDashKey, error) {
	k := store.CDashKey{Source: store.SourceJUnit, Project: project, Site: site, BuildName: clip(buildName, maxCDashName), Stamp: clip(stamp, maxCDashName)}
	for _, f := range []struct{ name, value string }{{"project", k.Project}, {"site", k.Site}, {"build name", k.BuildName}, {"stamp", k.Stamp}} {
		if problem := textProblem(f.value, maxCDashName); problem != "" {
			return k, errs.New(errs.BadRequest, "The %s %s.", f.name, problem)
		}
	}
	if strings.TrimSpace(k.BuildName) == "" {
		return k, errs.New(errs.BadRequest, "A build name is required: the report names none; pass one.")
	}
	return k, nil
}

// spackJUnit makes a build of each package of Spack's report: named after the package (or
// "<build name> - <package>"), of the stored spec with the package's hash when there is
// one, its log as the install phase, and the package as its one test.
func spackJUnit(req *ingestv1.SubmitJUnitRequest, r *junit.Report, sum string) ([]store.CDashPart, error) {
	var puts []store.CDashPart
	for _, suite := range r.Suites {
		for _, c := range suite.Cases {
			name := c.ClassName
			if req.GetBuildName() != "" {
				name = req.GetBuildName() + " - " + c.ClassName
			}
			key, err := junitKey(req.GetProject(), orElse(req.GetSite(), suite.Hostname), name, orElse(suite.Timestamp, sum))
			if err != nil {
				return nil, err
			}
			compiler, version, _ := strings.Cut(suite.Properties["compiler"], "@")
			put := store.CDashPart{
				Key: key, SpecName: specName(c.ClassName, true), SpecHash: c.Name,
				Env:  store.BuildEnv{Hostname: key.Site, HostTarget: clip(suite.Properties["architecture"], maxCDashName)},
				Info: store.CDashInfo{Package: specName(c.ClassName, true), CompilerName: clip(compiler, maxCDashName), CompilerVersion: clip(version, maxCDashName)},
			}
			test, err := junitTest(c, c.ClassName)
			if err != nil {
				return nil, err
			}
			put.Tests, put.ReplaceTests = []store.Test{test}, true
			if c.Status != junit.NotRun {
				status := store.StatusSuccess
				log := c.SystemOut
				if c.Status == junit.Failed {
					status = store.PhaseStatusError
					log = strings.TrimRight(log, "\n") + "\n" + c.Message + "\n" + c.Detail + "\n"
				}
				put.Phase = logPhase("install", status, log)
			}
			puts = append(puts, put)
		}
	}
	return puts, nil
}

// genericJUnit makes one build of a report, its test cases as the build's tests.
func genericJUnit(req *ingestv1.SubmitJUnitRequest, r *junit.Report, sum string) ([]store.CDashPart, error) {
	stamp, host := sum, ""
	if len(r.Suites) > 0 {
		stamp, host = orElse(r.Suites[0].Timestamp, sum), r.Suites[0].Hostname
	}
	key, err := junitKey(req.GetProject(), orElse(req.GetSite(), host), orElse(req.GetBuildName(), orElse(r.Name, req.GetFileName())), stamp)
	if err != nil {
		return nil, err
	}
	put := store.CDashPart{Key: key, SpecName: specName(key.BuildName, false), Env: store.BuildEnv{Hostname: key.Site}, ReplaceTests: true}
	failed := false
	for _, suite := range r.Suites {
		for _, c := range suite.Cases {
			name := c.Name
			if c.ClassName != "" {
				name = c.ClassName + "." + c.Name
			}
			t, err := junitTest(c, name)
			if err != nil {
				return nil, err
			}
			failed = failed || t.Status == store.TestFailed
			put.Tests = append(put.Tests, t)
		}
	}
	put.Tests = dedupeTests(put.Tests)
	status := store.StatusSuccess
	if failed {
		status = store.PhaseStatusError
	}
	put.Phase = &store.PhaseUpdate{Name: "test", Status: status, OutputNull: true}
	return []store.CDashPart{put}, nil
}

// junitTest is a test case as a stored test: its output is the failure's message and text,
// then what it printed.
func junitTest(c junit.Case, name string) (store.Test, error) {
	name = textOf(strings.TrimSpace(name), 1000)
	if name == "" {
		return store.Test{}, errs.New(errs.BadRequest, "Invalid JUnit report: a test case has no name.")
	}
	var out strings.Builder
	for _, part := range []string{c.Message, c.Detail, c.SystemOut, c.SystemErr} {
		if part != "" {
			out.WriteString(strings.TrimRight(part, "\n") + "\n")
		}
	}
	status := map[string]string{junit.Passed: store.TestPassed, junit.Failed: store.TestFailed, junit.NotRun: store.TestNotRun}[c.Status]
	return store.Test{Name: name, Status: status, Duration: c.Seconds, Measurements: "[]",
		Output: encoder.EncodeAll([]byte(out.String()), nil), OutputBytes: int64(out.Len())}, nil
}

// dedupeTests keeps the last test of each name.
func dedupeTests(tests []store.Test) []store.Test {
	index := map[string]int{}
	var out []store.Test
	for _, t := range tests {
		if i, ok := index[t.Name]; ok {
			out[i] = t
			continue
		}
		index[t.Name] = len(out)
		out = append(out, t)
	}
	return out
}
