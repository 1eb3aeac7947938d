package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/spackmon/spackmon/pkg/monitorclient"
)

var errUploadUsage = errors.New("usage: spackmon upload DIR [--url U]\n       spackmon upload --junit FILE... [--site S] [--build B] [--project P] [--url U]")

// runUpload replays what spack install --monitor-save-local wrote, the way spack monitor
// upload does, through the HTTP protocol.
func runUpload(ctx context.Context, args []string) error {
	_, err := uploadCommand(ctx, os.Stdout, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), os.Getenv, args)
	return err
}

// uploadCommand returns what it sent when it got as far as sending, even with an error.
func uploadCommand(ctx context.Context, out, errOut io.Writer, terminal bool, getenv func(string) string, args []string) (*uploadSummary, error) {
	fs := flag.NewFlagSet("spackmon upload", flag.ContinueOnError)
	url := fs.String("url", defaultMonitorURL, "the server")
	asJUnit := fs.Bool("junit", false, "the arguments are JUnit files (spack install --log-format=junit, pytest, ctest --output-junit)")
	names := junitNames{
		site:    fs.String("site", "", "with --junit: the site (host) the tests ran on; default: the report's"),
		build:   fs.String("build", "", "with --junit: the build name; default: the report's (Spack: each package's)"),
		project: fs.String("project", "", "with --junit: the project the builds belong to"),
	}
	dirs, err := parseArgs(fs, args, out, func(w io.Writer) { clientHelp(w, fs, errUploadUsage) })
	if err != nil {
		return nil, err
	}
	if *asJUnit {
		c, err := newCommandClient(*url, getenv)
		if err != nil {
			return nil, err
		}
		return nil, uploadJUnit(ctx, c, out, errOut, dirs, names)
	}
	if len(dirs) != 1 {
		return nil, fmt.Errorf("want one directory, got %d; %w", len(dirs), errUploadUsage)
	}
	c, err := newCommandClient(*url, getenv)
	if err != nil {
		return nil, err
	}
	u := &uploader{c: c, errOut: errOut, terminal: terminal}
	sum, err := u.run(ctx, dirs[0])
	if err != nil {
		return nil, err
	}
	sum.print(out)
	if len(sum.Failures) > 0 {
		return sum, fmt.Errorf("%d of %d files failed", len(sum.Failures), sum.Files)
	}
	return sum, nil
}

// resultFolder is one directory of save-local results, its files by kind, each sorted by
// name (Spack sends them in directory order, which is no order at all).
type resultFolder struct {
	dir                               string
	specs, metadata, phases, statuses []string
	// run is whether the folder holds a file only a save-local run starts with.
	run bool
}

// classify sorts a file into its folder's kinds by Spack's own globs.
func (f *resultFolder) classify(name string) bool {
	if runStart(name) {
		f.run = true
	}
	switch {
	case strings.HasPrefix(name, "build-metadata"):
		f.metadata = append(f.metadata, name)
	case strings.HasPrefix(name, "build") && strings.Contains(name[len("build"):], "phase"):
		f.phases = append(f.phases, name)
	case strings.HasPrefix(name, "build") && strings.Contains(name[len("build"):], "status"):
		f.statuses = append(f.statuses, name)
	case strings.HasPrefix(name, "spec"):
		f.specs = append(f.specs, name)
	default:
		return false
	}
	return true
}

// runStart reports whether a file name is one Spack gives the first files of a save-local
// run: spec-NAME-VERSION-config.json or build-metadata-ID.json.
func runStart(name string) bool {
	return strings.HasPrefix(name, "spec-") && strings.HasSuffix(name, "-config.json") ||
		strings.HasPrefix(name, "build-metadata-") && strings.HasSuffix(name, ".json")
}

// maxRunDepth is how deep below the directory given run folders are looked for: Spack
// writes them one level below ~/.spack/reports/monitor, and a wrong directory (a home, a
// source tree) is not walked to its end.
const maxRunDepth = 4

// errNoRuns says what upload expected to find.
const errNoRuns = "%s holds no spack install --monitor-save-local run: want folders (at most %d levels down) " +
	"holding spec-NAME-VERSION-config.json or build-metadata-ID.json, with their build-ID-phase-NAME.json " +
	"and build-ID-status.json files, as Spack writes them under ~/.spack/reports/monitor"

// findResults walks root for the run folders, in lexical order, which for Spack's
// timestamped run folders is the order the runs happened. Folders that are not runs are
// ignored; unreadable subfolders are returned as failures.
func findResults(root string) ([]*resultFolder, int, []Failure, error) {
	var folders []*resultFolder
	var unreadable []Failure
	byDir := map[string]*resultFolder{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			// Reported rather than fatal: one unreadable run must not hold back the others.
			unreadable = append(unreadable, Failure{File: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			if rel, err := filepath.Rel(root, p); err == nil && rel != "." && strings.Count(rel, string(filepath.Separator)) >= maxRunDepth {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		dir := filepath.Dir(p)
		f := byDir[dir]
		if f == nil {
			f = &resultFolder{dir: dir}
		}
		if f.classify(d.Name()) && byDir[dir] == nil {
			byDir[dir] = f
			folders = append(folders, f)
		}
		return nil
	})
	runs := folders[:0]
	files := 0
	for _, f := range folders {
		if f.run {
			runs = append(runs, f)
			files += len(f.specs) + len(f.metadata) + len(f.phases) + len(f.statuses)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].dir < runs[j].dir })
	return runs, files, unreadable, err
}

// Failure is a file that could not be sent, and why.
type Failure struct {
	File, Reason string
}

// uploadSummary is what an upload did.
type uploadSummary struct {
	Files, Folders        int
	Specs, SpecsCreated   int
	Builds, BuildsCreated int
	Phases, Statuses      int
	BuildIDs              map[string]int64 // "<folder>/<local id>" -> server build id
	Failures              []Failure
}

func (s *uploadSummary) print(w io.Writer) {
	fmt.Fprintf(w, "%d files in %d result folders\n", s.Files, s.Folders)
	fmt.Fprintf(w, "specs:    %d sent (%d created, %d already there)\n", s.Specs, s.SpecsCreated, s.Specs-s.SpecsCreated)
	fmt.Fprintf(w, "builds:   %d sent (%d created, %d already there)\n", s.Builds, s.BuildsCreated, s.Builds-s.BuildsCreated)
	fmt.Fprintf(w, "phases:   %d sent\n", s.Phases)
	fmt.Fprintf(w, "statuses: %d sent\n", s.Statuses)
	fmt.Fprintf(w, "failures: %d\n", len(s.Failures))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  %s: %s\n", f.File, f.Reason)
	}
}

type uploader struct {
	c        *monitorclient.Client
	root     string
	errOut   io.Writer
	terminal bool
	sum      uploadSummary
	done     int
	total    int
}

func (u *uploader) run(ctx context.Context, root string) (*uploadSummary, error) {
	folders, total, unreadable, err := findResults(root)
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		err := fmt.Errorf(errNoRuns, root, maxRunDepth)
		if len(unreadable) > 0 {
			err = fmt.Errorf("%w (%d folders could not be read, the first %s: %s)", err, len(unreadable), unreadable[0].File, unreadable[0].Reason)
		}
		return nil, err
	}
	// Spack checks the server before it sends anything; so does this, so that a wrong URL
	// is one error rather than one per file.
	if _, err := u.c.ServiceInfo(ctx); err != nil {
		return nil, err
	}
	u.total, u.root = total, root
	u.sum.Files, u.sum.Folders = total, len(folders)
	u.sum.BuildIDs = map[string]int64{}
	for _, f := range unreadable {
		u.fail(f.File, errors.New(f.Reason))
	}
	// Every spec before any build, across folders, so that a build never misses a spec
	// another run wrote; then each run in turn, so that a later run's phases and statuses
	// land after an earlier one's.
	for _, f := range folders {
		for _, name := range f.specs {
			if err := u.step(ctx, f, name, u.sendSpec); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range folders {
		local := map[string]int64{}
		for _, name := range f.metadata {
			if err := u.step(ctx, f, name, func(ctx context.Context, p string, data []byte) error {
				return u.sendBuild(ctx, p, data, local)
			}); err != nil {
				return nil, err
			}
		}
		for _, name := range f.phases {
			if err := u.step(ctx, f, name, func(ctx context.Context, p string, data []byte) error {
				return u.sendPhase(ctx, p, data, local)
			}); err != nil {
				return nil, err
			}
		}
		for _, name := range f.statuses {
			if err := u.step(ctx, f, name, func(ctx context.Context, p string, data []byte) error {
				return u.sendStatus(ctx, p, data, local)
			}); err != nil {
				return nil, err
			}
		}
		for id, server := range local {
			u.sum.BuildIDs[filepath.Join(f.dir, id)] = server
		}
	}
	u.progress("")
	return &u.sum, nil
}

// step reads one file and sends it; a failure is recorded and the upload goes on, unless
// the context ended, which ends the upload.
func (u *uploader) step(ctx context.Context, f *resultFolder, name string, send func(context.Context, string, []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := filepath.Join(f.dir, name)
	u.done++
	u.progress(p)
	data, err := os.ReadFile(p)
	if err == nil {
		err = send(ctx, p, data)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u.fail(p, err)
	}
	return nil
}

func (u *uploader) fail(p string, err error) {
	u.sum.Failures = append(u.sum.Failures, Failure{File: p, Reason: err.Error()})
	u.progress("")
	fmt.Fprintf(u.errOut, "%s: %v\n", p, err)
}

// progress redraws the status line; off a terminal it writes nothing, so logs and pipes get
// only the failures and the summary.
func (u *uploader) progress(p string) {
	if !u.terminal {
		return
	}
	if p == "" {
		fmt.Fprint(u.errOut, "\r\033[K")
		return
	}
	if rel, err := filepath.Rel(u.root, p); err == nil {
		p = rel
	}
	fmt.Fprintf(u.errOut, "\r\033[K[%d/%d] %s", u.done, u.total, p)
}

// unreadable marks a file that is not what its name says.
func unreadable(err error) error { return fmt.Errorf("cannot parse: %v", err) }

func decodeFile(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return unreadable(err)
	}
	if dec.More() {
		return unreadable(errors.New("data after the JSON document"))
	}
	return nil
}

func (u *uploader) sendSpec(ctx context.Context, p string, data []byte) error {
	var body struct {
		Spec         json.RawMessage `json:"spec"`
		SpackVersion string          `json:"spack_version"`
	}
	if err := decodeFile(data, &body); err != nil {
		return err
	}
	if len(body.Spec) == 0 || body.SpackVersion == "" {
		return unreadable(errors.New(`want {"spec": ..., "spack_version": ...}`))
	}
	created, _, err := u.c.NewSpec(ctx, body.Spec, body.SpackVersion)
	if err != nil {
		return err
	}
	u.sum.Specs++
	if created {
		u.sum.SpecsCreated++
	}
	return nil
}

// localID is how a result file names its build: Spack writes it as a string (an MD5), but
// a number is taken too.
type localID string

func (l *localID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = localID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("build_id %s is neither a string nor a number", b)
	}
	*l = localID(n.String())
	return nil
}

// tagList reads tags as Spack saves them (one comma-separated string) or as a list.
type tagList []string

func (t *tagList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = nil
		for _, tag := range strings.Split(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				*t = append(*t, tag)
			}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("tags %s are neither a string nor a list of strings", b)
	}
	*t = list
	return nil
}

func (u *uploader) sendBuild(ctx context.Context, p string, data []byte, local map[string]int64) error {
	// The local id is in the file name only: Spack computes it from a Python repr.
	id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "build-metadata-"), ".json")
	if id == "" || strings.HasPrefix(filepath.Base(p), id) {
		return unreadable(errors.New("no local build id in the file name (build-metadata-<id>.json)"))
	}
	var body struct {
		monitorclient.NewBuildRequest
		Tags tagList `json:"tags"`
	}
	if err := decodeFile(data, &body); err != nil {
		return err
	}
	req := body.NewBuildRequest
	req.Tags = body.Tags
	res, err := u.c.NewBuild(ctx, req)
	if err != nil {
		return err
	}
	local[id] = int64(res.Build.ID)
	u.sum.Builds++
	if res.BuildCreated {
		u.sum.BuildsCreated++
	}
	return nil
}

// serverID maps a phase or status file's build to the server's id.
func serverID(p string, id localID, local map[string]int64) (int64, error) {
	if id == "" {
		return 0, unreadable(errors.New("no build_id"))
	}
	if n, ok := local[string(id)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("build %s has no build-metadata-%s.json in %s that was sent", id, id, filepath.Dir(p))
}

func (u *uploader) sendPhase(ctx context.Context, p string, data []byte, local map[string]int64) error {
	var body struct {
		BuildID   localID `json:"build_id"`
		PhaseName string  `json:"phase_name"`
		Status    string  `json:"status"`
		Output    *string `json:"output"`
	}
	if err := decodeFile(data, &body); err != nil {
		return err
	}
	id, err := serverID(p, body.BuildID, local)
	if err != nil {
		return err
	}
	if _, err := u.c.UpdatePhase(ctx, id, body.PhaseName, body.Status, body.Output); err != nil {
		return err
	}
	u.sum.Phases++
	return nil
}

func (u *uploader) sendStatus(ctx context.Context, p string, data []byte, local map[string]int64) error {
	var body struct {
		BuildID localID `json:"build_id"`
		Status  string  `json:"status"`
	}
	if err := decodeFile(data, &body); err != nil {
		return err
	}
	id, err := serverID(p, body.BuildID, local)
	if err != nil {
		return err
	}
	if _, err := u.c.UpdateBuildStatus(ctx, id, body.Status); err != nil {
		return err
	}
	u.sum.Statuses++
	return nil
}

// junitNames are the names upload --junit gives the builds.
type junitNames struct{ site, build, project *string }

// maxJUnitFile is the largest report sent, as the server takes it.
const maxJUnitFile = 32 << 20

// uploadJUnit posts each JUnit file and prints the builds it made; a file that fails is
// reported and the others still sent.
func uploadJUnit(ctx context.Context, c *monitorclient.Client, out, errOut io.Writer, files []string, names junitNames) error {
	if len(files) == 0 {
		return fmt.Errorf("no JUnit file given; %w", errUploadUsage)
	}
	failed := 0
	for _, f := range files {
		builds, err := uploadJUnitFile(ctx, c, f, names)
		if err != nil {
			failed++
			fmt.Fprintf(errOut, "%s: %v\n", f, err)
			continue
		}
		for _, b := range builds {
			linked := ""
			if b.SpecFullHash != "" {
				linked = " spec " + b.SpecFullHash
			}
			fmt.Fprintf(out, "%s: build %d %s %s, %d tests%s\n", f, b.BuildID, b.BuildName, b.Status, b.Tests, linked)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

func uploadJUnitFile(ctx context.Context, c *monitorclient.Client, name string, names junitNames) ([]monitorclient.JUnitBuild, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	report, err := io.ReadAll(io.LimitReader(f, maxJUnitFile+1))
	if err != nil {
		return nil, err
	}
	if len(report) > maxJUnitFile {
		return nil, fmt.Errorf("larger than %d bytes", maxJUnitFile)
	}
	params := neturl.Values{"site": {*names.site}, "build": {*names.build}, "project": {*names.project}, "file_name": {filepath.Base(name)}}
	return c.SubmitJUnit(ctx, report, params)
}
