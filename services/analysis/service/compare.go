package service

import (
	"context"
	"strings"

	"github.com/spackmon/spackmon/pkg/page"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// maxCompareEntries caps each list of a comparison: it is one part of a page that shows much
// else, and DiffAnalysis pages through the rest.
const maxCompareEntries = 200

// analysisOf is what a comparison reads of one build besides its install files.
type analysisOf struct {
	configArgs string
	env        []store.EnvironmentVariable
	analyzed   bool
}

// CompareAnalyses answers whether both builds were analyzed and, when they were, the first
// maxCompareEntries differences of each kind.
func (s *Server) CompareAnalyses(ctx context.Context, req *analysisv1.CompareAnalysesRequest) (*analysisv1.AnalysisComparison, error) {
	var builds [2]analysisOf
	for i, id := range []int64{req.GetA(), req.GetB()} {
		if err := s.needBuild(ctx, id); err != nil {
			return nil, err
		}
		var err error
		if builds[i], err = s.readAnalysis(ctx, id); err != nil {
			return nil, err
		}
	}
	resp := &analysisv1.AnalysisComparison{AnalyzedA: builds[0].analyzed, AnalyzedB: builds[1].analyzed, MaxEntries: maxCompareEntries}
	if !resp.AnalyzedA || !resp.AnalyzedB {
		return resp, nil
	}
	wa, wb := strings.Fields(builds[0].configArgs), strings.Fields(builds[1].configArgs)
	var cutRemoved, cutAdded bool
	resp.ConfigArgsRemoved, cutRemoved = capped(onlyIn(wa, wb))
	resp.ConfigArgsAdded, cutAdded = capped(onlyIn(wb, wa))
	resp.ConfigArgsTruncated = cutRemoved || cutAdded
	resp.Environment, resp.EnvironmentTruncated = capped(envChanges(builds[0].env, builds[1].env))
	files, err := s.diffFiles(ctx, req.GetA(), req.GetB(), "", maxCompareEntries+1)
	if err != nil {
		return nil, err
	}
	resp.InstallFiles, resp.InstallFilesTruncated = capped(files)
	if resp.InstallFilesTruncated {
		resp.InstallFilesNextPageToken = page.Token(files[maxCompareEntries-1].GetPath())
	}
	return resp, nil
}

// readAnalysis reads a build's configure arguments and environment, and whether anything at
// all was recorded about it.
func (s *Server) readAnalysis(ctx context.Context, id int64) (analysisOf, error) {
	var a analysisOf
	var recorded bool
	var err error
	if a.configArgs, recorded, err = s.store.GetConfigArgs(ctx, id); err != nil {
		return a, err
	}
	if a.env, err = s.store.GetEnvironment(ctx, id); err != nil {
		return a, err
	}
	if recorded || len(a.env) > 0 {
		a.analyzed = true
		return a, nil
	}
	// An attribute about a file adds the file, so files and whole-build attributes are all
	// there is left to look for.
	files, err := s.store.ListInstallFiles(ctx, store.InstallFileQuery{BuildID: id, Limit: 1})
	if err != nil || len(files) > 0 {
		a.analyzed = len(files) > 0
		return a, err
	}
	attrs, err := s.store.ListAttributes(ctx, store.AttributeQuery{BuildIDs: []int64{id}, Limit: 1})
	a.analyzed = len(attrs) > 0
	return a, err
}

// capped cuts a list to maxCompareEntries, saying whether it did.
func capped[T any](list []T) ([]T, bool) {
	if len(list) > maxCompareEntries {
		return list[:maxCompareEntries], true
	}
	return list, false
}
