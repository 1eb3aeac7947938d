package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// The failure rollup (failure_days, failure_months, failure_spread) counts the
// build_fingerprints rows up to failure_rollup_mark; the rows after it are folded in here,
// as one set per statement, instead of by a trigger per row (migration 00017). Folding runs
// in the background every foldEvery, and before the failure list is read, so the list
// counts every row committed before it was asked for.

const (
	foldEvery = time.Second
	// foldBatch bounds the rowids one transaction folds in. Every page a write changes
	// inside its savepoint (db.SQLite.WriteTx) is copied to a journal in memory, and the
	// rows of a fold land all over failure_spread: 20,000 rows at a time raised the peak
	// memory of serve by about 25 MiB under 64 clients posting 1 MiB logs, 200 by about 5.
	// Short transactions also keep the shared writer from waiting on one long fold.
	foldBatch = 256
)

// foldStatements add the rows with rowid in (?1, ?2] to the rollup, as the triggers of
// migration 00009 would have one by one, and move the mark to ?2.
var foldStatements = []string{`
INSERT INTO failure_days (kind, fingerprint, day, builds)
SELECT min(kind), fingerprint, substr(seen_at, 1, 10) AS d, count(*) FROM build_fingerprints
WHERE rowid > ?1 AND rowid <= ?2 GROUP BY fingerprint, d
ON CONFLICT (fingerprint, day) DO UPDATE SET builds = builds + excluded.builds`, `
INSERT INTO failure_months (kind, fingerprint, month, builds)
SELECT min(kind), fingerprint, substr(seen_at, 1, 7) AS m, count(*) FROM build_fingerprints
WHERE rowid > ?1 AND rowid <= ?2 GROUP BY fingerprint, m
ON CONFLICT (fingerprint, month) DO UPDATE SET builds = builds + excluded.builds`, `
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'package', s.name, count(*), max(bf.seen_at)
FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
WHERE bf.rowid > ?1 AND bf.rowid <= ?2 GROUP BY bf.fingerprint, s.name
ON CONFLICT (fingerprint, dim, value) DO UPDATE
SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen)`, `
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'compiler', CAST(s.compiler_id AS TEXT), count(*), max(bf.seen_at)
FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
WHERE bf.rowid > ?1 AND bf.rowid <= ?2 AND s.compiler_id IS NOT NULL GROUP BY bf.fingerprint, s.compiler_id
ON CONFLICT (fingerprint, dim, value) DO UPDATE
SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen)`, `
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'host', e.hostname, count(*), max(bf.seen_at)
FROM build_fingerprints bf JOIN build_environments e ON e.id = bf.env_id
WHERE bf.rowid > ?1 AND bf.rowid <= ?2 GROUP BY bf.fingerprint, e.hostname
ON CONFLICT (fingerprint, dim, value) DO UPDATE
SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen)`, `
UPDATE failure_rollup_mark SET last_rowid = ?2 WHERE id = 1`,
}

// pendingFoldSQL is the mark and the last rowid written.
const pendingFoldSQL = `
SELECT last_rowid, coalesce((SELECT max(rowid) FROM build_fingerprints), 0) FROM failure_rollup_mark WHERE id = 1`

// foldFailures folds every row past the mark into the rollup, a batch per transaction.
func (s *Store) foldFailures(ctx context.Context) error {
	for {
		var mark, last int64
		if err := s.db.Read.QueryRowContext(ctx, pendingFoldSQL).Scan(&mark, &last); err != nil {
			return wrap("fold failures", err)
		}
		if last <= mark {
			return nil
		}
		more := false
		err := s.write(ctx, "fold failures", func(tx *sql.Tx) error {
			// Read again in the writer's transaction: another fold may have run since.
			if err := tx.QueryRowContext(ctx, pendingFoldSQL).Scan(&mark, &last); err != nil {
				return err
			}
			upTo := min(last, mark+foldBatch)
			more = upTo < last
			if upTo <= mark {
				return nil
			}
			for _, q := range foldStatements {
				if _, err := tx.ExecContext(ctx, q, mark, upTo); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
	}
}

// foldInBackground folds the rollup every foldEvery until stop is closed.
func (s *Store) foldInBackground(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(foldEvery)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			// A failed fold is tried again at the next tick; the rows wait past the mark,
			// and a read folds them itself before it counts.
			_ = s.foldFailures(ctx)
		}
	}
}
