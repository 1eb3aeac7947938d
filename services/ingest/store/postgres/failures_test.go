package postgres_test

import (
	"context"
	"github.com/jackc/pgx/v5"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestBackfillFingerprints(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.Backfill(t, st, func(q string) error {
		_, err := pool.Exec(context.Background(), q)
		return err
	}, `UPDATE phase_event_lists SET fingerprints = array_fill(NULL::text, ARRAY[cardinality(kinds)])`)
}

func TestRepeatedEventText(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.RepeatedEventText(t, st, func() (n int, err error) {
		err = pool.QueryRow(context.Background(), `SELECT count(*) FROM phase_events WHERE text = '' AND text_in_log`).Scan(&n)
		return n, err
	})
}

// TestEventsReadInOneSnapshot drops a phase's log while its events are being read: the
// events still read their text and context from the log of the snapshot they came from.
func TestEventsReadInOneSnapshot(t *testing.T) {
	ctx := context.Background()
	st, _ := openPool(t)
	defer st.Close()
	id, want := storetest.PutRepeatedLog(t, st)
	listed, err := st.ListEvents(ctx, store.EventQuery{BuildID: id, Limit: 1})
	if err != nil || len(listed) != 1 {
		t.Fatalf("ListEvents = %v, %v", listed, err)
	}
	pruned := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond) // while the events' statement sleeps
		_, err := st.PruneLogs(ctx, store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)})
		pruned <- err
	}()
	got, err := st.SlowPhaseEvents(ctx, listed[0].Key.PhaseID, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.Event != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, e.Event, want[i])
		}
	}
}

// TestPruneWhilePhaseReported reports a phase again while its old log is being pruned: the
// new log, whose events keep their context and text in it, must stay.
func TestPruneWhilePhaseReported(t *testing.T) {
	ctx := context.Background()
	st, pool := openPool(t)
	defer st.Close()
	id, _ := storetest.PutRepeatedLog(t, st)
	// The prune's copy of the old events' text and context into their rows waits a while,
	// after it has read them and the old log.
	if _, err := pool.Exec(ctx, `
CREATE FUNCTION slow_event_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;
CREATE TRIGGER slow_event_update BEFORE UPDATE ON phase_event_lists FOR EACH STATEMENT EXECUTE FUNCTION slow_event_update();`); err != nil {
		t.Fatal(err)
	}
	pruned := make(chan error, 1)
	go func() {
		_, err := st.PruneLogs(ctx, store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)})
		pruned <- err
	}()
	time.Sleep(100 * time.Millisecond)
	want := storetest.PutLogPhase(t, st, id, "error: again\nsrc/c.c:1: warning: w\nsrc/c.c:2: warning: w\nplain\nerror: again\n")
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
	got, err := st.ListEvents(ctx, store.EventQuery{BuildID: id, Limit: 100})
	if err != nil || len(got) != len(want) {
		t.Fatalf("ListEvents = %d events, %v; want %d", len(got), err, len(want))
	}
	for i, e := range got {
		if e.Event != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, e.Event, want[i])
		}
	}
}

// TestContextKeptWithText: an event keeps its text in the log only while it keeps its
// context there. A prune by the code before migration 00016 copied only the context back.
func TestContextKeptWithText(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.PutRepeatedLog(t, st)
	_, err := pool.Exec(context.Background(), `UPDATE phase_event_lists SET context_in_log = false`)
	if err == nil || !strings.Contains(err.Error(), "phase_event_lists_text_needs_context") {
		t.Fatalf("an event without its context in the log kept its text there: %v", err)
	}
}

// TestDowngradeKeepsEventText takes the schema back to before migration 00016: events
// that kept their text in the log get a text of their fingerprint again.
func TestDowngradeKeepsEventText(t *testing.T) {
	ctx := context.Background()
	st, pool, url := openDatabase(t)
	defer st.Close()
	_, want := storetest.PutRepeatedLog(t, st)
	if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 15, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	rs, err := pool.Query(ctx, `SELECT text FROM phase_events ORDER BY line_no`)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckDowngradedText(t, want, texts)
}

func TestFailureRollup(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(context.Background(), `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, nil)
}

// TestUpgradeRollsUpFailures reports failures, takes the schema back to before migration
// 00009 (dropping the rollup) and migrates again: 00009's backfill must roll them up.
func TestUpgradeRollsUpFailures(t *testing.T) {
	ctx := context.Background()
	st, pool, url := openDatabase(t)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(ctx, `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, func() error {
		if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 8, db.WithVersionTable(migrations.VersionTable)); err != nil {
			return err
		}
		return migrate(ctx, url)
	})
}

// TestEventListsDownAndUp takes the schema back to a row per event (before migration 00018)
// and up again, with a phase reported twice so that its list is not the first: going down
// keeps every event and its id, going up numbers the lists again, and the events, their
// order, text and context, and the build's examples are read as before, the examples naming
// events of the new ids.
func TestEventListsDownAndUp(t *testing.T) {
	ctx := context.Background()
	st, pool, url := openDatabase(t)
	defer st.Close()
	id, _ := storetest.PutRepeatedLog(t, st)
	storetest.PutLogPhase(t, st, id, "src/a.c:1:5: warning: w [-Wextra]\nsrc/a.c:2:5: warning: v [-Wextra]\nplain\nerror: first\nerror: last\n")
	eventsBefore, printsBefore := eventsAndPrints(t, st, id)

	if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 17, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	rs, err := pool.Query(ctx, `SELECT id FROM phase_events ORDER BY line_no, id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rs, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(eventsBefore) {
		t.Fatalf("%d events after the downgrade, want %d", len(ids), len(eventsBefore))
	}
	for i, e := range eventsBefore {
		if ids[i] != e.Key.ID {
			t.Errorf("event %d: id %d after the downgrade, was %d", i, ids[i], e.Key.ID)
		}
	}

	if err := migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	eventsAfter, printsAfter := eventsAndPrints(t, st, id)
	if len(eventsAfter) != len(eventsBefore) || len(printsAfter) != len(printsBefore) {
		t.Fatalf("%d events and %d fingerprints after the upgrade, want %d and %d",
			len(eventsAfter), len(printsAfter), len(eventsBefore), len(printsBefore))
	}
	newID := map[int64]int64{}
	for i, e := range eventsAfter {
		was := eventsBefore[i]
		newID[was.Key.ID] = e.Key.ID
		if e.Key.ID == was.Key.ID {
			t.Errorf("event %d kept id %d: the list was numbered again, its ids should change", i, e.Key.ID)
		}
		e.Key.ID, was.Key.ID = 0, 0
		if e != was {
			t.Errorf("event %d after the upgrade:\n got %+v\nwant %+v", i, e, was)
		}
	}
	for i, p := range printsAfter {
		was := printsBefore[i]
		if p.Example.EventID != newID[was.Example.EventID] {
			t.Errorf("fingerprint %s: example %d after the upgrade, want %d (was %d)", p.Hash, p.Example.EventID,
				newID[was.Example.EventID], was.Example.EventID)
		}
		p.Example.EventID, was.Example.EventID = 0, 0
		if p != was {
			t.Errorf("fingerprint %d after the upgrade:\n got %+v\nwant %+v", i, p, was)
		}
	}
}

func eventsAndPrints(t *testing.T, st store.Store, buildID int64) ([]store.PhaseEvent, []store.BuildFingerprint) {
	t.Helper()
	events, err := st.ListEvents(context.Background(), store.EventQuery{BuildID: buildID, Limit: 1000})
	if err != nil || len(events) == 0 {
		t.Fatalf("ListEvents = %d events, %v", len(events), err)
	}
	prints, err := st.BuildFingerprints(context.Background(), buildID, true)
	if err != nil || len(prints) == 0 {
		t.Fatalf("BuildFingerprints = %d, %v", len(prints), err)
	}
	return events, prints
}

// TestEventIDsPastInt32 numbers the lists past 2^31 / 2^20: every statement that has an
// event's id (its context from the log, the prune's copy-back, an example's lookup, the
// backfill) must take it as a bigint.
func TestEventIDsPastInt32(t *testing.T) {
	ctx := context.Background()
	st, pool := openPool(t)
	defer st.Close()
	if _, err := pool.Exec(ctx, `ALTER TABLE phase_event_lists ALTER COLUMN id RESTART WITH 5000`); err != nil {
		t.Fatal(err)
	}
	id, want := storetest.PutRepeatedLog(t, st)
	events, prints := eventsAndPrints(t, st, id)
	if len(events) != len(want) || events[0].Key.ID < 1<<32 {
		t.Fatalf("%d events, the first of id %d; want %d past 2^32", len(events), events[0].Key.ID, len(want))
	}
	for i, e := range events {
		if e.Event != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, e.Event, want[i])
		}
	}
	if prints[0].Example.EventID < 1<<32 || prints[0].Example.Text == "" {
		t.Errorf("example %+v", prints[0].Example)
	}
	if _, err := st.PruneLogs(ctx, store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pruned, _ := eventsAndPrints(t, st, id)
	for i, e := range pruned {
		if e.Event != want[i] {
			t.Errorf("event %d after the prune:\n got %+v\nwant %+v", i, e.Event, want[i])
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE phase_event_lists SET fingerprints = array_fill(NULL::text, ARRAY[cardinality(kinds)])`); err != nil {
		t.Fatal(err)
	}
	if n, err := st.BackfillFingerprints(ctx, 100); err != nil || n != len(want) {
		t.Fatalf("BackfillFingerprints = %d, %v; want %d", n, err, len(want))
	}
}

// TestUpgradeKeepsLargePhases: a database written before parsing capped a phase's events
// may hold phases of thousands; migration 00018 keeps every one of them.
func TestUpgradeKeepsLargePhases(t *testing.T) {
	ctx := context.Background()
	st, pool, url := openDatabase(t)
	defer st.Close()
	id, want := storetest.PutRepeatedLog(t, st)
	if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 17, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	const more = 3000
	if _, err := pool.Exec(ctx, `
INSERT INTO phase_events (phase_id, kind, line_no, text, start_line, end_line, fingerprint)
SELECT phase_id, 'warning', 1000 + n, 'x.c:' || n || ': warning: w', 1000 + n, 1000 + n, NULL
FROM (SELECT DISTINCT phase_id FROM phase_events) AS p, generate_series(1, $1) AS n`, more); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	var all []store.PhaseEvent
	for after := (store.EventKey{}); ; {
		page, err := st.ListEvents(ctx, store.EventQuery{BuildID: id, After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Key
	}
	if len(all) != len(want)+more {
		t.Fatalf("%d events after the upgrade, want %d", len(all), len(want)+more)
	}
	for i, e := range want {
		if all[i].Event != e {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, all[i].Event, e)
		}
	}
	if n, err := st.BackfillFingerprints(ctx, 5000); err != nil || n != more {
		t.Fatalf("BackfillFingerprints = %d, %v; want %d", n, err, more)
	}
}

func TestHoldWithoutConnection(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.HoldWithoutConnection(t, st, func() int { return int(pool.Stat().AcquiredConns()) })
}
