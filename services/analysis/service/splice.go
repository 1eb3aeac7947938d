package service

import (
	"context"
	"encoding/json"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/page"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// The attribute spack analyze's symbolator analyzer posts for each binary.
const (
	symbolAnalyzer  = "symbolator"
	symbolAttribute = "symbolator-json"
)

// maxSymbolFiles bounds the files of one build whose symbol tables a prediction reads.
const maxSymbolFiles = 2000

// SpliceServer answers SpliceService from the analysis store.
type SpliceServer struct {
	analysisv1.UnimplementedSpliceServiceServer
	analysis *Server
}

// NewSplice returns the splice service of the analysis service s.
func NewSplice(s *Server) *SpliceServer { return &SpliceServer{analysis: s} }

// symbolTable is what one file defines and needs.
type symbolTable struct {
	file             string
	defined, needed  map[string]bool
	sharedLibraryish bool
}

// PredictSplice finds the symbols a's files need from a's libraries that b's libraries of the
// same name do not define.
func (s *SpliceServer) PredictSplice(ctx context.Context, req *analysisv1.PredictSpliceRequest) (*analysisv1.SplicePrediction, error) {
	var tables [2][]symbolTable
	for i, id := range []int64{req.GetA(), req.GetB()} {
		if err := s.analysis.needBuild(ctx, id); err != nil {
			return nil, err
		}
		var err error
		if tables[i], err = s.symbolTables(ctx, id); err != nil {
			return nil, err
		}
	}
	return predictSplice(tables[0], tables[1]), nil
}

// symbolTables reads the symbol data of every file of a build that has it.
func (s *SpliceServer) symbolTables(ctx context.Context, buildID int64) ([]symbolTable, error) {
	var out []symbolTable
	q := store.AttributeQuery{BuildIDs: []int64{buildID}, Analyzer: symbolAnalyzer, Name: symbolAttribute, Limit: page.MaxSize}
	for {
		refs, err := s.analysis.store.ListAttributes(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if len(out) == maxSymbolFiles {
				return nil, errs.New(errs.BadRequest, "Build %d has symbol data for more than %d files.", buildID, maxSymbolFiles)
			}
			attr, err := s.analysis.store.GetAttribute(ctx, ref.ID)
			if err != nil {
				return nil, err
			}
			if attr.JSONValue == nil {
				continue
			}
			out = append(out, readSymbols(attr.InstallFile, *attr.JSONValue))
		}
		if len(refs) < q.Limit {
			return out, nil
		}
		q.AfterID = refs[len(refs)-1].ID
	}
}

// symbolData is the part of a symbolator-json value read here: each symbol with its name
// and whether the file defines it ("defined", or a "section" of UND for one it needs).
type symbolData struct {
	Symbols []struct {
		Name    string `json:"name"`
		Defined *bool  `json:"defined"`
		Section string `json:"section"`
	} `json:"symbols"`
}

// readSymbols reads one file's table; a value of another shape has no symbols.
func readSymbols(file, value string) symbolTable {
	t := symbolTable{file: file, defined: map[string]bool{}, needed: map[string]bool{}, sharedLibraryish: isSharedLibrary(file)}
	var d symbolData
	if json.Unmarshal([]byte(value), &d) != nil {
		return t
	}
	for _, sym := range d.Symbols {
		if sym.Name == "" {
			continue
		}
		undefined := sym.Section == "UND" || sym.Section == "SHN_UNDEF" || (sym.Defined != nil && !*sym.Defined)
		if undefined {
			t.needed[sym.Name] = true
		} else {
			t.defined[sym.Name] = true
		}
	}
	return t
}

// isSharedLibrary tells a shared library by its name: lib*.so, with or without a version.
func isSharedLibrary(file string) bool {
	base := path.Base(file)
	return len(base) > 3 && base[:3] == "lib" && (path.Ext(base) == ".so" || slices.Contains(strings.Split(base, "."), "so"))
}

// predictSplice is the set computation: for each library of b that a has by the same base
// name, the symbols a's files need that a's library defines and b's does not.
func predictSplice(a, b []symbolTable) *analysisv1.SplicePrediction {
	out := &analysisv1.SplicePrediction{FilesA: int32(len(a)), FilesB: int32(len(b))}
	inB := map[string]symbolTable{}
	for _, t := range b {
		if t.sharedLibraryish {
			inB[path.Base(t.file)] = t
		}
	}
	for _, lib := range a {
		replacement, ok := inB[path.Base(lib.file)]
		if !lib.sharedLibraryish || !ok {
			continue
		}
		out.Libraries = append(out.Libraries, path.Base(lib.file))
		for _, user := range a {
			if user.file == lib.file {
				continue
			}
			for _, sym := range slices.Sorted(maps.Keys(user.needed)) {
				if lib.defined[sym] && !replacement.defined[sym] {
					out.Missing = append(out.Missing, &analysisv1.MissingSymbol{Symbol: sym, Library: lib.file, NeededBy: user.file})
				}
			}
		}
	}
	out.Compatible = len(out.Libraries) > 0 && len(out.Missing) == 0
	return out
}
