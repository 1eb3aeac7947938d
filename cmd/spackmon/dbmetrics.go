package main

import (
	"database/sql"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/telemetry"
)

// observePostgres puts the pool of service's database on /metrics.
func observePostgres(service string, pool *pgxpool.Pool) {
	telemetry.ObserveDatabasePool(service, "pgx", func() telemetry.PoolStats {
		s := pool.Stat()
		return telemetry.PoolStats{InUse: int64(s.AcquiredConns()), Idle: int64(s.IdleConns()), Max: int64(s.MaxConns()),
			WaitCount: s.EmptyAcquireCount(), Waited: s.EmptyAcquireWaitTime().Seconds()}
	})
}

// observeSQLite puts the writer connection and the reader pool of service's SQLite file on
// /metrics. Writes queue ahead of the writer's pool (db.SQLite.WriteTx), so its waits
// are the queue's.
func observeSQLite(service string, sq *db.SQLite) {
	for name, pool := range map[string]*sql.DB{"write": sq.Write, "read": sq.Read} {
		telemetry.ObserveDatabasePool(service, name, func() telemetry.PoolStats {
			s := pool.Stats()
			stats := telemetry.PoolStats{InUse: int64(s.InUse), Idle: int64(s.Idle), Max: int64(s.MaxOpenConnections),
				WaitCount: s.WaitCount, Waited: s.WaitDuration.Seconds()}
			if pool == sq.Write {
				n, d := sq.WriterWaits()
				stats.WaitCount += n
				stats.Waited += d.Seconds()
			}
			return stats
		})
	}
}
