package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// recorder collects, per endpoint, every request's latency and size, and the errors.
type recorder struct {
	mu        sync.Mutex
	endpoints map[string]*endpointStats
	errors    []string // the first few, to show
	nerrors   int
}

type endpointStats struct {
	latencies []time.Duration
	errors    int
	sent      int64
	received  int64
}

// How many error messages a run keeps to print; the count is always exact.
const keptErrors = 10

func newRecorder() *recorder { return &recorder{endpoints: map[string]*endpointStats{}} }

func (r *recorder) record(endpoint string, took time.Duration, sent, received int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.endpoints[endpoint]
	if e == nil {
		e = &endpointStats{}
		r.endpoints[endpoint] = e
	}
	e.latencies = append(e.latencies, took)
	e.sent += sent
	e.received += received
	if err != nil {
		e.errors++
		r.nerrors++
		if len(r.errors) < keptErrors {
			r.errors = append(r.errors, fmt.Sprintf("%s: %v", endpoint, err))
		}
	}
}

// totals are a run's counts over every endpoint.
type totals struct {
	requests, errors int
	sent, received   int64
	all              []time.Duration
}

func (r *recorder) totals() totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t totals
	for _, e := range r.endpoints {
		t.requests += len(e.latencies)
		t.errors += e.errors
		t.sent += e.sent
		t.received += e.received
		t.all = append(t.all, e.latencies...)
	}
	slices.Sort(t.all)
	return t
}

// writeTable writes one row per endpoint: count, errors, latency percentiles in
// milliseconds, and the bytes sent and received.
func (r *recorder) writeTable(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tcount\terrors\tp50 ms\tp95 ms\tp99 ms\tsent MB\treceived MB\t")
	for _, name := range slices.Sorted(maps.Keys(r.endpoints)) {
		e := r.endpoints[name]
		l := slices.Sorted(slices.Values(e.latencies))
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t\n", name, len(l), e.errors,
			ms(percentile(l, 50)), ms(percentile(l, 95)), ms(percentile(l, 99)), mb(e.sent), mb(e.received))
	}
	tw.Flush()
}

// percentile of sorted latencies, by the nearest-rank method; zero for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(n int64) float64         { return float64(n) / 1e6 }

// note keeps an error that ended a spec's workflow, to show with the requests' errors.
func (r *recorder) note(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) < keptErrors {
		r.errors = append(r.errors, "spec workflow: "+err.Error())
	}
}

// kept is the first errors of the step.
func (r *recorder) kept() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errors)
}
