package sqlite_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestBackfillFingerprints(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.Backfill(t, st, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}
