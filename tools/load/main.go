// Command load sends realistic Spack traffic to a spackmon server and measures it: spec
// DAGs that share dependencies, builds with phase logs full of compiler warnings, failures,
// and `spack analyze` results, from as many concurrent Spack clients as asked, in a sweep.
// Each step prints a table per endpoint and, given the server's process id and data
// directory, the server's CPU per spec, peak memory and bytes on disk per spec; the run ends
// with one SUMMARY line. It exits non-zero if any request failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type config struct {
	url          string
	user, token  string
	clients      []int
	duration     time.Duration // per step; or
	specs        int           // per step
	failRate     float64
	seed         uint64
	testdata     string
	pids         []int // the server's processes, to measure; none for none
	logMin       int   // bounds of a phase log's size, in bytes
	logMax       int
	dataDir      string // the server's, to measure; "" for none
	spackVersion string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{user: os.Getenv("SPACKMON_USER"), token: os.Getenv("SPACKMON_TOKEN")}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "the spackmon server's URL")
	fs.StringVar(&cfg.user, "user", cfg.user, "user name (default $SPACKMON_USER); the API token is read from $SPACKMON_TOKEN only")
	clients := fs.String("clients", "1,16,64", "concurrent Spack clients of each step of the sweep")
	fs.DurationVar(&cfg.duration, "duration", 0, "how long each step starts new specs (default 30s unless -specs is given)")
	fs.IntVar(&cfg.specs, "specs", 0, "how many specs each step runs")
	fs.Float64Var(&cfg.failRate, "fail", 0.1, "share of builds whose build phase fails")
	fs.Uint64Var(&cfg.seed, "seed", uint64(time.Now().UnixNano()), "random seed: the same seed sends the same workload")
	fs.StringVar(&cfg.testdata, "testdata", "", "the repository's testdata folder (default: the one beside go.work above the working directory)")
	pids := fs.String("pid", "", "the server's process ids, comma-separated (the roles, a database), to measure their CPU and peak memory, summed")
	fs.IntVar(&cfg.logMin, "log-min", minLogBytes, "smallest phase log, in bytes")
	fs.IntVar(&cfg.logMax, "log-max", maxLogBytes, "largest phase log, in bytes (sizes are log-uniform in between)")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "the server's data directory, to measure bytes on disk per spec")
	fs.StringVar(&cfg.spackVersion, "spack-version", "0.17.2", "the Spack version the clients report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: load [flags]   (SPACKMON_USER and SPACKMON_TOKEN: a spackmon user and its API token)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("no arguments expected, got %q", fs.Args())
	}
	var err error
	if cfg.clients, err = parseCounts("-clients", *clients, 1, maxClients); err != nil {
		return cfg, err
	}
	if *pids != "" {
		if cfg.pids, err = parseCounts("-pid", *pids, 1, 1<<22); err != nil {
			return cfg, err
		}
	}
	if cfg.logMin < 1 || cfg.logMax < cfg.logMin || cfg.logMax > maxLogLimit {
		return cfg, fmt.Errorf("-log-min and -log-max: 1 <= min <= max <= %d", maxLogLimit)
	}
	if cfg.specs < 0 || cfg.duration < 0 || cfg.failRate < 0 || cfg.failRate > 1 {
		return cfg, errors.New("-specs and -duration must not be negative, -fail is between 0 and 1")
	}
	if cfg.specs == 0 && cfg.duration == 0 {
		cfg.duration = 30 * time.Second
	}
	if cfg.user == "" || cfg.token == "" {
		return cfg, errors.New("SPACKMON_USER (or -user) and SPACKMON_TOKEN must name a user and its API token")
	}
	cfg.url = strings.TrimRight(cfg.url, "/")
	if cfg.testdata == "" {
		if cfg.testdata, err = findTestdata(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// The most concurrent clients a step may have: each holds a phase log of up to 1 MiB.
const maxClients = 1024

// The largest phase log a client makes: each client holds its log and the request's JSON.
const maxLogLimit = 16 << 20

// parseCounts reads a comma-separated list of numbers from lo to hi.
func parseCounts(flag, s string, lo, hi int) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a number from %d to %d", flag, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

// findTestdata finds the repository's testdata folder beside go.work, above the working
// directory.
func findTestdata() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return filepath.Join(d, "testdata"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: give -testdata", wd)
		}
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	w, err := loadWorkload(cfg.testdata, cfg.failRate, cfg.spackVersion)
	if err != nil {
		return err
	}
	w.logMin, w.logMax = cfg.logMin, cfg.logMax
	var steps []stepResult
	for i, n := range cfg.clients {
		res, err := runStep(ctx, cfg, w, n, uint64(i))
		if err != nil {
			return err
		}
		res.write(out)
		steps = append(steps, res)
	}
	writeSummary(out, steps)
	errs := 0
	for _, s := range steps {
		errs += s.totals.errors
	}
	if errs > 0 {
		return fmt.Errorf("%d requests failed", errs)
	}
	return nil
}
