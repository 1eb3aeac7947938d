package telemetry

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is what a database connection pool holds at one moment.
type PoolStats struct {
	InUse, Idle, Max int64
	// WaitCount is how many times a caller had to wait for a connection, since the pool
	// opened; Waited how long they waited in all, in seconds.
	WaitCount int64
	Waited    float64
}

// ObserveDatabasePool makes the gauges of /metrics follow the pool named pool ("pgx", or
// SQLite's "write" and "read") of the service's database. A later pool of the same name
// replaces the earlier one: a process opens each service's database once (tests reopen
// them).
func ObserveDatabasePool(service, pool string, stats func() PoolStats) {
	databases.mu.Lock()
	defer databases.mu.Unlock()
	databases.pools[poolKey{service, pool}] = stats
}

type poolKey struct{ service, pool string }

// poolCollector reads every observed pool's stats when /metrics is scraped.
type poolCollector struct {
	mu    sync.Mutex
	pools map[poolKey]func() PoolStats
}

var databases = &poolCollector{pools: map[poolKey]func() PoolStats{}}

var (
	poolLabels      = []string{"service", "pool"}
	poolConnections = prometheus.NewDesc("spackmon_db_pool_connections",
		"Connections of a database pool, by state (in_use, idle).", append(poolLabels, "state"), nil)
	poolMax = prometheus.NewDesc("spackmon_db_pool_max_connections",
		"Most connections a database pool opens.", poolLabels, nil)
	poolWaits = prometheus.NewDesc("spackmon_db_pool_waits_total",
		"Times a caller waited for a free connection of a database pool.", poolLabels, nil)
	poolWaited = prometheus.NewDesc("spackmon_db_pool_wait_seconds_total",
		"Time callers waited for a free connection of a database pool.", poolLabels, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnections, poolMax, poolWaits, poolWaited} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, stats := range c.pools {
		s := stats()
		ch <- prometheus.MustNewConstMetric(poolConnections, prometheus.GaugeValue, float64(s.InUse), k.service, k.pool, "in_use")
		ch <- prometheus.MustNewConstMetric(poolConnections, prometheus.GaugeValue, float64(s.Idle), k.service, k.pool, "idle")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.Max), k.service, k.pool)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), k.service, k.pool)
		ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.Waited, k.service, k.pool)
	}
}
