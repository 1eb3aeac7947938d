// Package db opens the databases spackmon runs on — a pgx pool for PostgreSQL, a writer
// connection plus a reader pool for SQLite — and applies goose migrations to them.
package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenPostgres opens a connection pool on url and checks that the server answers.
// Pool settings given in url (pool_max_conns and friends) win over the defaults here.
func OpenPostgres(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	applyPoolDefaults(cfg, url)
	// Every statement is a span of the request it serves (the SQL without its arguments,
	// which may hold what clients sent). Acquiring a connection is not: the health check
	// does it every second, and would fill the traces with roots of its own.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithDisableAcquireTracer(), otelpgx.WithTrimSQLInSpanName())
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres ping: %w", err)
	}
	return pool, nil
}

func applyPoolDefaults(cfg *pgxpool.Config, url string) {
	// pgxpool's own default (max(4, NumCPU)) starves a 2-core service whose requests
	// mostly wait on the network, so allow a few connections per core.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if !strings.Contains(url, "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = 5 * time.Minute
	}
	if !strings.Contains(url, "pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = time.Hour
	}
	// The services' statements run in milliseconds, but PostgreSQL compiles a plan with JIT
	// once its estimate passes jit_above_cost, and without fresh statistics estimates are
	// far off: spec_closure's propagation (1 ms of work) spent 1 to 2.3 s of the backend's
	// CPU in JIT on every spec written, two thirds of the database's CPU under the load
	// tool. ?jit=on in url keeps it. A SET after connecting rather than a startup parameter,
	// which connection poolers such as PgBouncer refuse unless told to ignore it.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "SET jit = off")
			return err
		}
	}
}

// InTx runs fn in a transaction on pool, committing when fn returns nil.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// Retryable reports whether err is a PostgreSQL serialization failure or deadlock, after
// which the whole transaction may simply be run again.
func Retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01"
}

// Retry runs fn until it succeeds, fails with an error that is not Retryable, or has been
// tried attempts times. It waits a little longer after each retryable failure so that
// transactions that collided do not collide again at once.
func Retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for i := range attempts {
		if err = fn(); err == nil || !Retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
	return err
}
