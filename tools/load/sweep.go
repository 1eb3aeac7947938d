package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stepResult is what one step of the sweep measured.
type stepResult struct {
	clients     int
	specs       int64 // spec workflows finished, failed ones included
	failedSpecs int64
	elapsed     time.Duration
	rec         *recorder
	totals      totals
	// The server's, when the run was given its process and data directory; -1 when not.
	cpu       time.Duration
	peakRSS   int64
	diskAdded int64
}

// runStep runs n concurrent clients, each sending spec workflows one after the other until
// the step's duration is over or its spec count is reached; a workflow once started ends.
func runStep(ctx context.Context, cfg config, w *workload, n int, step uint64) (stepResult, error) {
	res := stepResult{clients: n, rec: newRecorder(), cpu: -1, peakRSS: -1, diskAdded: -1}
	cpu0, disk0, err := measureBefore(cfg)
	if err != nil {
		return res, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	var started, failed atomic.Int64
	var errOnce sync.Once
	start := time.Now()
	stopAt := start.Add(cfg.duration)
	more := func() bool {
		if ctx.Err() != nil || (cfg.duration > 0 && time.Now().After(stopAt)) {
			return false
		}
		return cfg.specs == 0 || started.Add(1) <= int64(cfg.specs)
	}
	var wg sync.WaitGroup
	var finished atomic.Int64
	for i := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.seed, step<<32|uint64(i)))
			c := &spackClient{base: cfg.url, user: cfg.user, token: cfg.token, rec: res.rec,
				http: &http.Client{Transport: transport, Timeout: 5 * time.Minute}}
			host := fmt.Sprintf("load-host-%02d", i)
			for seq := 0; more(); seq++ {
				id := fmt.Sprintf("%d.%d.%d.%d", cfg.seed%1e6, step, i, seq)
				if err := w.specRun(ctx, c, rng, host, id); err != nil {
					failed.Add(1)
					errOnce.Do(func() { res.rec.note(err) })
				}
				finished.Add(1)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.specs, res.failedSpecs = finished.Load(), failed.Load()
	res.totals = res.rec.totals()
	return res, measureAfter(cfg, &res, cpu0, disk0)
}

func measureBefore(cfg config) (cpu time.Duration, disk int64, err error) {
	if len(cfg.pids) > 0 {
		if cpu, err = sum(cfg.pids, processCPU); err != nil {
			return 0, 0, err
		}
	}
	if cfg.dataDir != "" {
		if disk, err = dirBytes(cfg.dataDir); err != nil {
			return 0, 0, err
		}
	}
	return cpu, disk, nil
}

func measureAfter(cfg config, res *stepResult, cpu0 time.Duration, disk0 int64) error {
	if len(cfg.pids) > 0 {
		cpu, err := sum(cfg.pids, processCPU)
		if err != nil {
			return err
		}
		res.cpu = cpu - cpu0
		if res.peakRSS, err = sum(cfg.pids, peakRSS); err != nil {
			return err
		}
	}
	if cfg.dataDir != "" {
		disk, err := dirBytes(cfg.dataDir)
		if err != nil {
			return err
		}
		res.diskAdded = disk - disk0
	}
	return nil
}

// sum adds up a measure of each process.
func sum[T time.Duration | int64](pids []int, measure func(int) (T, error)) (T, error) {
	var total T
	for _, pid := range pids {
		v, err := measure(pid)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}

// perSpec divides a step's figure by its specs; -1 when unknown.
func (s stepResult) perSpec(v float64) float64 {
	if v < 0 || s.specs == 0 {
		return -1
	}
	return v / float64(s.specs)
}

func (s stepResult) specsPerSecond() float64 { return float64(s.specs) / s.elapsed.Seconds() }

func (s stepResult) write(out io.Writer) {
	fmt.Fprintf(out, "\n== %d clients: %d specs in %.1fs (%.2f specs/s), %d requests, %d errors, %d failed specs\n",
		s.clients, s.specs, s.elapsed.Seconds(), s.specsPerSecond(), s.totals.requests, s.totals.errors, s.failedSpecs)
	s.rec.writeTable(out)
	for _, e := range s.rec.kept() {
		fmt.Fprintln(out, "error:", e)
	}
	fmt.Fprintf(out, "STEP clients=%d specs=%d errors=%d specs_per_s=%.2f p50_ms=%.1f p99_ms=%.1f wire_kb_per_spec=%.0f "+
		"cpu_ms_per_spec=%s peak_rss_mib=%s disk_kb_per_spec=%s\n",
		s.clients, s.specs, s.totals.errors+int(s.failedSpecs), s.specsPerSecond(),
		ms(percentile(s.totals.all, 50)), ms(percentile(s.totals.all, 99)),
		s.perSpec(float64(s.totals.sent+s.totals.received))/1e3,
		known(s.perSpec(ms(s.cpu)), "%.1f"), known(float64(s.peakRSS)/(1<<20), "%.0f"), known(s.perSpec(float64(s.diskAdded))/1e3, "%.0f"))
}

// known formats v, or "-" for a figure not measured.
func known(v float64, format string) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// writeSummary is the run's last line: each step's figures, comma-separated in the sweep's
// order, for scripts and for the README.
func writeSummary(out io.Writer, steps []stepResult) {
	fields := []struct {
		name string
		of   func(stepResult) string
	}{
		{"clients", func(s stepResult) string { return fmt.Sprint(s.clients) }},
		{"specs", func(s stepResult) string { return fmt.Sprint(s.specs) }},
		{"errors", func(s stepResult) string { return fmt.Sprint(s.totals.errors + int(s.failedSpecs)) }},
		{"specs_per_s", func(s stepResult) string { return fmt.Sprintf("%.2f", s.specsPerSecond()) }},
		{"p99_ms", func(s stepResult) string { return fmt.Sprintf("%.1f", ms(percentile(s.totals.all, 99))) }},
		{"cpu_ms_per_spec", func(s stepResult) string { return known(s.perSpec(ms(s.cpu)), "%.1f") }},
		{"peak_rss_mib", func(s stepResult) string { return known(float64(s.peakRSS)/(1<<20), "%.0f") }},
		{"disk_kb_per_spec", func(s stepResult) string { return known(s.perSpec(float64(s.diskAdded))/1e3, "%.0f") }},
	}
	line := []string{"SUMMARY"}
	for _, f := range fields {
		vals := make([]string, len(steps))
		for i, s := range steps {
			vals[i] = f.of(s)
		}
		line = append(line, f.name+"="+strings.Join(vals, ","))
	}
	fmt.Fprintln(out, strings.Join(line, " "))
}
