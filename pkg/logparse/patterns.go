package logparse

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
)

// patternsJSON is CTest's list of build-log patterns, kept as data so that it can be
// compared with (and updated from) the upstream lists without touching code.
//
//go:embed patterns.json
var patternsJSON []byte

type patternFile struct {
	ContextLines      int      `json:"context_lines"`
	ErrorMatches      []string `json:"error_matches"`
	ErrorExceptions   []string `json:"error_exceptions"`
	WarningMatches    []string `json:"warning_matches"`
	WarningExceptions []string `json:"warning_exceptions"`
	FileLineMatches   []string `json:"file_line_matches"`
}

// span is a half-open range of pattern ids in ruleset.res; the four classification lists
// share one id space so that a single prefilter pass can mark candidates in all of them.
type span struct{ lo, hi int }

type ruleset struct {
	context int
	res     []*regexp.Regexp
	src     []string

	errs, errExc, warns, warnExc span

	fileLine    []*regexp.Regexp
	fileLineSrc []string
	// fileLinePre rules out the file/line patterns an event line cannot match: most of
	// them search the whole line from every position and find nothing.
	fileLinePre *prefilter

	pre *prefilter
	// relevant holds the ids of the error and warning patterns: a line whose prefilter
	// result has none of them cannot be an event, whatever the exceptions say.
	relevant []uint64
}

// rules is built on first use so that importing the package costs nothing for programs
// that never parse a log. The data is compiled into the binary, so a failure here is a
// programming error and panics (the tests exercise it).
var rules = sync.OnceValue(func() *ruleset {
	rs, err := buildRuleset(patternsJSON)
	if err != nil {
		panic("logparse: embedded patterns.json: " + err.Error())
	}
	return rs
})

func buildRuleset(data []byte) (*ruleset, error) {
	var pf patternFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return nil, err
	}
	if pf.ContextLines < 0 {
		return nil, fmt.Errorf("context_lines is negative (%d)", pf.ContextLines)
	}
	rs := &ruleset{context: pf.ContextLines}
	add := func(list []string) (span, error) {
		s := span{lo: len(rs.res)}
		for _, p := range list {
			re, err := regexp.Compile(p)
			if err != nil {
				return s, err
			}
			rs.res = append(rs.res, re)
			rs.src = append(rs.src, p)
		}
		s.hi = len(rs.res)
		return s, nil
	}
	var err error
	if rs.errs, err = add(pf.ErrorMatches); err != nil {
		return nil, err
	}
	if rs.errExc, err = add(pf.ErrorExceptions); err != nil {
		return nil, err
	}
	if rs.warns, err = add(pf.WarningMatches); err != nil {
		return nil, err
	}
	if rs.warnExc, err = add(pf.WarningExceptions); err != nil {
		return nil, err
	}
	for _, p := range pf.FileLineMatches {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		// The location is read from groups 1 and 2; a pattern without them would
		// silently yield empty locations.
		if re.NumSubexp() < 2 {
			return nil, fmt.Errorf("file/line pattern %q has fewer than 2 groups", p)
		}
		rs.fileLine = append(rs.fileLine, re)
		rs.fileLineSrc = append(rs.fileLineSrc, p)
	}
	if rs.fileLinePre, err = newPrefilter(rs.fileLineSrc); err != nil {
		return nil, err
	}
	if rs.pre, err = newPrefilter(rs.src); err != nil {
		return nil, err
	}
	rs.relevant = make([]uint64, rs.pre.words)
	for _, s := range []span{rs.errs, rs.warns} {
		for id := s.lo; id < s.hi; id++ {
			rs.relevant[id>>6] |= 1 << (id & 63)
		}
	}
	return rs, nil
}

// anyMatch reports whether a pattern of s that survived the prefilter (cand) matches line.
func (rs *ruleset) anyMatch(s span, cand []uint64, line []byte) bool {
	for id := s.lo; id < s.hi; id++ {
		if cand[id>>6]&(1<<(id&63)) != 0 && rs.res[id].Match(line) {
			return true
		}
	}
	return false
}

// candidate reports whether line may be an event: some error or warning pattern survives
// the prefilter, whose result it leaves in cand.
func (rs *ruleset) candidate(line []byte, cand []uint64) bool {
	rs.pre.candidates(line, cand)
	for i, w := range cand {
		if w&rs.relevant[i] != 0 {
			return true
		}
	}
	return false
}

// match returns the kind of event a candidate line is, or "" when it is neither, with the
// prefilter's result in cand.
func (rs *ruleset) match(line []byte, cand []uint64) Kind {
	if rs.anyMatch(rs.errs, cand, line) && !rs.anyMatch(rs.errExc, cand, line) {
		return Error
	}
	if rs.anyMatch(rs.warns, cand, line) && !rs.anyMatch(rs.warnExc, cand, line) {
		return Warning
	}
	return ""
}
