package main

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/service"
)

// seedConfig configures spackmon seed.
type seedConfig struct {
	config.Database
	config.Log
}

// seedPlan is how much spackmon seed writes.
type seedPlan struct {
	builds         int
	eventsPerBuild int
	logBytes       int64 // uncompressed, over all builds
	workers        int
	seed           uint64
	// first is the index of the first build, so that a second run adds builds rather than
	// finding the first run's.
	first int
	// grown, when set, is called each time the builds written have doubled (from 1,000).
	grown func(ctx context.Context) error
}

// Bounds of a plan, so that a typo cannot ask for a day of work or a log the service refuses.
const (
	maxSeedBuilds         = 10_000_000
	maxSeedEventsPerBuild = 1000
	maxSeedLogPerBuild    = 64 << 20
	maxSeedWorkers        = 256
)

func (p seedPlan) check() error {
	switch {
	case p.builds < 1 || p.builds > maxSeedBuilds:
		return fmt.Errorf("--builds must be between 1 and %d", maxSeedBuilds)
	case p.eventsPerBuild < 0 || p.eventsPerBuild > maxSeedEventsPerBuild:
		return fmt.Errorf("--events-per-build must be between 0 and %d", maxSeedEventsPerBuild)
	case p.logBytes < 0 || p.logBytes/int64(p.builds) > maxSeedLogPerBuild:
		return fmt.Errorf("--log-bytes must be at most %d per build", maxSeedLogPerBuild)
	case p.workers < 1 || p.workers > maxSeedWorkers:
		return fmt.Errorf("--workers must be between 1 and %d", maxSeedWorkers)
	case p.first < 0:
		return errors.New("--first must not be negative")
	}
	return nil
}

// runSeed fills the ingest store with generated builds through the ingest service, the code
// the RPCs run, for measuring reads at scale.
func runSeed(ctx context.Context, args []string) error {
	var cfg seedConfig
	p := seedPlan{}
	var logBytes string
	if err := load("seed", &cfg, args, func(fs *flag.FlagSet) {
		fs.IntVar(&p.builds, "builds", 1000, "builds to add")
		fs.IntVar(&p.eventsPerBuild, "events-per-build", 10, "warning and error events in each build's logs, on average")
		fs.StringVar(&logBytes, "log-bytes", "", "uncompressed log bytes over all builds, with Ki, Mi or Gi (default 8Ki per build)")
		fs.IntVar(&p.workers, "workers", 4, "builds written at once")
		fs.Uint64Var(&p.seed, "seed", 1, "random seed: the same seed and plan write the same documents")
		fs.IntVar(&p.first, "first", 0, "index of the first build (a later run continues where an earlier one ended)")
		fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "SQLite data directory (when SPACKMON_DATABASE_URL is empty)")
	}); err != nil {
		return err
	}
	p.logBytes = int64(p.builds) * (8 << 10)
	if logBytes != "" {
		n, err := parseBytes(logBytes)
		if err != nil {
			return err
		}
		p.logBytes = n
	}
	if err := p.check(); err != nil {
		return err
	}
	st, err := openIngestStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.URL != "" {
		pool, err := db.OpenPostgres(ctx, cfg.URL)
		if err != nil {
			return err
		}
		defer pool.Close()
		p.grown = analyzer(pool)
	}
	fmt.Fprintf(os.Stdout, "seeding %s: %d builds, %d events per build, %d log bytes, %d workers\n",
		storeName(cfg.Database), p.builds, p.eventsPerBuild, p.logBytes, p.workers)
	_, err = seed(ctx, service.New(st), p, os.Stdout)
	return err
}

// parseBytes reads a size such as 1Gi, 512Mi, 8Ki or 4096.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n < 0 || n > 1<<50/mult {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes, optionally with Ki, Mi or Gi", s)
	}
	return n * mult, nil
}

// seedTotals is what a seed wrote.
type seedTotals struct {
	builds, phases, failed atomic.Int64
	logBytes               atomic.Int64
}

// seed writes p.builds builds with p.workers goroutines, printing progress to out every few
// seconds, and stops at the first error.
func seed(ctx context.Context, svc *service.Server, p seedPlan, out io.Writer) (*seedTotals, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	u := newUniverse(p.seed)
	next := make(chan int)
	var tot seedTotals
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			for i := range next {
				if err := seedBuild(ctx, svc, u, p, i, &tot); err != nil {
					cancel(fmt.Errorf("build %d: %w", i, err))
					return
				}
			}
		})
	}
	stopProgress := progress(ctx, out, p, &tot)
	start := time.Now()
feed:
	for i := p.first; i < p.first+p.builds; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	stopProgress()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	took := time.Since(start)
	fmt.Fprintf(out, "seeded %d builds (%d failed), %d phases, %d log bytes in %s: %.0f builds/s\n",
		tot.builds.Load(), tot.failed.Load(), tot.phases.Load(), tot.logBytes.Load(), took.Round(time.Second),
		float64(tot.builds.Load())/took.Seconds())
	return &tot, nil
}

// analyzer is seedPlan.grown on PostgreSQL: ANALYZE, as autovacuum would run it. Without
// statistics (autovacuum off, or behind a store growing this fast) the planner takes the
// rows of a build's phases for a sizable part of the table and reads the whole of it for
// every phase written: seeding then slows in proportion to the builds stored.
func analyzer(pool *pgxpool.Pool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := pool.Exec(ctx, `ANALYZE`)
		return err
	}
}

// progress prints the count of builds written every 5 s until the returned func is called,
// and calls p.grown when they have doubled.
func progress(ctx context.Context, out io.Writer, p seedPlan, tot *seedTotals) func() {
	total := p.builds
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		start, last, lastN, grownAt := time.Now(), time.Now(), int64(0), int64(500)
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				// The rate of the last interval as well as the average: a rate that falls as
				// the store grows is what the seed is there to show.
				n := tot.builds.Load()
				fmt.Fprintf(out, "%d/%d builds, %.0f/s (last %.0fs: %.0f/s)\n", n, total, float64(n)/now.Sub(start).Seconds(),
					now.Sub(last).Seconds(), float64(n-lastN)/now.Sub(last).Seconds())
				last, lastN = now, n
				if p.grown != nil && n >= 2*grownAt {
					grownAt = n
					if err := p.grown(ctx); err != nil {
						fmt.Fprintf(out, "analyze: %v\n", err)
					}
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// The owners builds are spread over: each writes as itself, as a token would let it.
var seedOwners = []string{"alice", "bob", "carol", "ci-bot", "dave"}

// seedBuild writes build i as Spack would: the spec, the build, its phases and its status.
func seedBuild(ctx context.Context, svc *service.Server, u *universe, p seedPlan, i int, tot *seedTotals) error {
	rng := rand.New(rand.NewPCG(p.seed, uint64(i)))
	b := u.build(rng, i)
	owner := (i / buildsPerVariant) % len(seedOwners)
	ctx = authn.WithIdentity(ctx, authn.Identity{Name: seedOwners[owner], UserID: int64(1_000_000 + owner)})
	if _, err := svc.NewSpec(ctx, &ingestv1.NewSpecRequest{Spec: b.doc, SpackVersion: b.spackVersion}); err != nil {
		return fmt.Errorf("new spec: %w", err)
	}
	nb, err := svc.NewBuild(ctx, &ingestv1.NewBuildRequest{
		FullHash: b.fullHash, SpackVersion: b.spackVersion, Hostname: b.host, KernelVersion: "6.1.0-" + b.host[len(b.host)-2:],
		HostOs: "debian12", HostTarget: "x86_64_v3", Platform: "linux", Tags: b.tags,
	})
	if err != nil {
		return fmt.Errorf("new build: %w", err)
	}
	id := nb.GetBuild().GetBuildId()
	for _, ph := range b.phases(rng, p.eventsPerBuild, p.logBytes/int64(p.builds)) {
		if _, err := svc.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: ph.name, Status: ph.status, Output: ph.log}); err != nil {
			return fmt.Errorf("phase %s: %w", ph.name, err)
		}
		tot.phases.Add(1)
		tot.logBytes.Add(int64(len(ph.log)))
	}
	if _, err := svc.UpdateBuildStatus(ctx, &ingestv1.UpdateBuildStatusRequest{BuildId: id, Status: b.status}); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if b.status == "FAILED" {
		tot.failed.Add(1)
	}
	tot.builds.Add(1)
	return nil
}

// Each root spec variant is built on this many hosts, so that specs have several builds.
const buildsPerVariant = 8

// seedPackage is a package of the generated universe: lower-numbered packages are the
// dependencies of higher ones, so DAGs share their lower layers.
type seedPackage struct {
	name     string
	versions []string
	deps     []int
	types    [][]string
}

type universe struct{ pkgs []seedPackage }

var seedNames = strings.Fields(`zlib bzip2 xz zstd libiconv ncurses readline openssl curl expat
	libxml2 gettext pkgconf m4 autoconf automake libtool perl python cmake gdbm sqlite libffi
	berkeley-db diffutils tar gmp mpfr mpc isl hwloc libpciaccess numactl libevent openmpi
	mpich hdf5 netcdf-c netcdf-fortran fftw openblas lapack scalapack boost eigen petsc hypre
	superlu-dist metis parmetis trilinos sundials kokkos raja umpire adios2 zfp sz libpng
	libjpeg-turbo freetype fontconfig pixman cairo harfbuzz glib pcre2 util-linux libuuid
	git go rust llvm gcc binutils elfutils libunwind papi tau hpctoolkit caliper py-numpy
	py-scipy py-mpi4py py-h5py py-setuptools py-pip py-wheel`)

// newUniverse makes the packages: each depends on up to four earlier ones.
func newUniverse(seed uint64) *universe {
	rng := rand.New(rand.NewPCG(seed, 0))
	u := &universe{pkgs: make([]seedPackage, len(seedNames))}
	for i, name := range seedNames {
		major := 1 + rng.IntN(9)
		p := seedPackage{name: name}
		for k := range 3 {
			p.versions = append(p.versions, fmt.Sprintf("%d.%d.%d", major, 3-k, rng.IntN(10)))
		}
		for range min(i, rng.IntN(5)) {
			d := rng.IntN(i)
			if !containsInt(p.deps, d) {
				p.deps = append(p.deps, d)
				p.types = append(p.types, [][]string{{"build", "link"}, {"build"}, {"build", "run"}}[rng.IntN(3)])
			}
		}
		u.pkgs[i] = p
	}
	return u
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// seedBuildPlan is one build to write.
type seedBuildPlan struct {
	pkg          seedPackage
	doc          []byte
	fullHash     string
	spackVersion string
	host         string
	tags         []string
	status       string
}

// build plans build i: a root package concretized with random versions (so dependency specs
// repeat across DAGs), on one of 64 hosts, with a status most often SUCCESS.
func (u *universe) build(rng *rand.Rand, i int) seedBuildPlan {
	variant := i / buildsPerVariant
	vrng := rand.New(rand.NewPCG(uint64(variant), 7))
	root := len(u.pkgs)/4 + vrng.IntN(len(u.pkgs)-len(u.pkgs)/4)
	c := &seedConcretizer{u: u, rng: vrng, hashes: map[int]string{}, versions: map[int]string{},
		compiler: [...]string{"gcc@12.2.0", "gcc@12.2.0", "gcc@13.1.0", "clang@16.0.6"}[vrng.IntN(4)], variant: variant}
	full := c.concretize(root, true)
	b := seedBuildPlan{pkg: u.pkgs[root], fullHash: full, spackVersion: "0.17.2",
		host: fmt.Sprintf("node-%02d", (i%buildsPerVariant+variant*5)%64)}
	if variant%10 == 9 {
		b.spackVersion = "0.18.0"
	}
	b.doc = c.document(root)
	b.tags = []string{[...]string{"nightly", "nightly", "release", "pr"}[rng.IntN(4)]}
	switch r := rng.IntN(100); {
	case r < 12:
		b.status = "FAILED"
	case r < 15:
		b.status = "CANCELLED"
	case r < 17:
		b.status = "NOTRUN"
	default:
		b.status = "SUCCESS"
	}
	return b
}

// seedConcretizer picks each package's version once per DAG and hashes nodes bottom-up; the
// root's hash also takes its variant, so each variant is a spec of its own.
type seedConcretizer struct {
	u        *universe
	rng      *rand.Rand
	hashes   map[int]string
	versions map[int]string
	compiler string
	variant  int
}

var seedHashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (c *seedConcretizer) concretize(i int, root bool) string {
	if h, ok := c.hashes[i]; ok {
		return h
	}
	p := c.u.pkgs[i]
	var key strings.Builder
	for _, d := range p.deps {
		key.WriteString(c.concretize(d, false) + ",")
	}
	v := p.versions[0]
	switch r := c.rng.IntN(10); {
	case r == 9:
		v = p.versions[2]
	case r >= 7:
		v = p.versions[1]
	}
	fmt.Fprintf(&key, "%s@%s%%%s", p.name, v, c.compiler)
	if root {
		fmt.Fprintf(&key, "#%d", c.variant)
	}
	sum := sha256.Sum256([]byte(key.String()))
	c.hashes[i], c.versions[i] = seedHashEncoding.EncodeToString(sum[:])[:32], v
	return c.hashes[i]
}

// document is the spec document of root's DAG in Spack 0.17's layout, root first.
func (c *seedConcretizer) document(root int) []byte {
	compiler, cversion, _ := strings.Cut(c.compiler, "@")
	order := []int{root}
	seen := map[int]bool{root: true}
	for k := 0; k < len(order); k++ {
		for _, d := range c.u.pkgs[order[k]].deps {
			if !seen[d] {
				seen[d] = true
				order = append(order, d)
			}
		}
	}
	nodes := make([]map[string]any, 0, len(order))
	for _, i := range order {
		p := c.u.pkgs[i]
		n := map[string]any{
			"version": c.versions[i], "namespace": "builtin",
			"arch":       map[string]any{"platform": "linux", "platform_os": "debian12", "target": "x86_64_v3"},
			"compiler":   map[string]any{"name": compiler, "version": cversion},
			"parameters": map[string]any{"shared": i%3 != 0, "cflags": []string{}, "cxxflags": []string{}, "ldflags": []string{}},
			"full_hash":  c.hashes[i], "hash": c.hashes[i][:31] + "a", "build_hash": c.hashes[i][:31] + "b",
		}
		if len(p.deps) > 0 {
			deps := map[string]any{}
			for k, d := range p.deps {
				deps[c.u.pkgs[d].name] = map[string]any{"full_hash": c.hashes[d], "type": p.types[k]}
			}
			n["dependencies"] = deps
		}
		nodes = append(nodes, map[string]any{p.name: n})
	}
	doc, err := json.Marshal(map[string]any{"spec": nodes})
	if err != nil {
		panic(err) // maps of strings, numbers and bools always marshal
	}
	return doc
}
