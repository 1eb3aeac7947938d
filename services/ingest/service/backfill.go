package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
)

// Backfill batches: small enough that each transaction is short and ingest keeps
// answering while it runs, with a pause between them that leaves the writer to others.
const (
	backfillBatch = 500
	backfillPause = 50 * time.Millisecond
)

// BackfillFingerprints fingerprints, in bounded batches, the events stored before
// fingerprints existed, until none is left or ctx ends; it is run once in the background
// when the ingest role starts. A failed batch is logged and the backfill stops: the next
// start resumes it.
func BackfillFingerprints(ctx context.Context, st store.Store, log *slog.Logger) {
	total := 0
	for {
		n, err := st.BackfillFingerprints(ctx, backfillBatch)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("fingerprint backfill stopped", "events", total, "error", err)
			}
			return
		}
		total += n
		if n == 0 {
			if total > 0 {
				log.Info("fingerprint backfill done", "events", total)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backfillPause):
		}
	}
}
