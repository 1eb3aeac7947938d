package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/services/ingest/retention"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// pruneConfig configures spackmon prune.
type pruneConfig struct {
	config.Database
	config.Log
	Retention  string `envconfig:"RETENTION" default:"builds=180d,logs=30d,keep-failed=365d" desc:"how long builds, phase logs and failed builds are kept (d, h or m; off keeps forever); the newest build of every spec is always kept"`
	PruneBatch int    `envconfig:"PRUNE_BATCH" default:"1000" desc:"builds or logs removed per transaction by spackmon prune (at most 5000)"`
}

// runPrune removes what the retention policy says is past its age, batch by batch, and
// reports what went.
func runPrune(ctx context.Context, args []string) error {
	var cfg pruneConfig
	var dryRun, verbose bool
	if err := load("prune", &cfg, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "report what would be removed, remove nothing")
		fs.BoolVar(&verbose, "v", false, "list every build removed")
	}); err != nil {
		return err
	}
	policy, err := retention.Parse(cfg.Retention)
	if err != nil {
		return err
	}
	st, err := openIngestStore(ctx, cfg.Database, false)
	if err != nil {
		return err
	}
	defer st.Close()
	return prune(ctx, st, policy.At(time.Now()), cfg.PruneBatch, dryRun, verbose, os.Stdout)
}

// prune runs the batches of both kinds until none is left and writes the totals to w.
func prune(ctx context.Context, st store.Pruner, cut retention.Cutoffs, batch int, dryRun, verbose bool, w io.Writer) error {
	q := store.PruneQuery{BuildsBefore: cut.Builds, FailedBefore: cut.Failed, LogsBefore: cut.Logs, Limit: batch, DryRun: dryRun}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	builds, failed := 0, 0
	for {
		pruned, err := st.PruneBuilds(ctx, q)
		if err != nil {
			return err
		}
		for _, b := range pruned {
			builds++
			if b.Status == store.StatusFailed {
				failed++
			}
			if verbose {
				fmt.Fprintf(w, "%s build %d %s/%s %s created %s\n", verb, b.ID, b.SpecName, b.FullHash, b.Status, b.CreatedAt.Format(time.RFC3339))
			}
		}
		if len(pruned) == 0 {
			break
		}
		q.AfterID = pruned[len(pruned)-1].ID
	}
	logs, bytes := 0, int64(0)
	q.AfterID = 0
	for {
		pruned, err := st.PruneLogs(ctx, q)
		if err != nil {
			return err
		}
		for _, l := range pruned {
			logs++
			bytes += l.Bytes
		}
		if len(pruned) == 0 {
			break
		}
		q.AfterID = pruned[len(pruned)-1].PhaseID
	}
	fmt.Fprintf(w, "%s %d builds (%d failed) and %d phase logs (%d compressed bytes; their events kept)\n", verb, builds, failed, logs, bytes)
	return nil
}
