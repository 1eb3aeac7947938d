package sqlite_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
)

// TestBuildDayCountsRollup writes builds over several days and owners, changes them as the
// writers do (a status set, set again to the same, an owner renamed, builds deleted, one's
// creation moved), and after each step compares BuildCountsByDay, which reads the rollup of
// migration 00015, with a count of the builds themselves, from midnights and from within a
// day. Migrating down past 00015 and up again must give the same counts from the backfill.
func TestBuildDayCountsRollup(t *testing.T) {
	ctx := context.Background()
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	at := func(days, hours int) string {
		return today.AddDate(0, 0, -days).Add(time.Duration(hours) * time.Hour).Format("2006-01-02T15:04:05.000000Z")
	}
	execAll(t, sq,
		`INSERT INTO specs (id, name, spack_version, full_hash, created_at) VALUES (1, 'zlib', '0.17.2', 'zfh', '`+at(3, 0)+`')`,
		`INSERT INTO build_environments (id, hostname, kernel_version, host_os, host_target, platform) VALUES (1, 'h', 'k', 'o', 't', 'linux')`)
	id := 0
	for days := range 3 {
		for _, hours := range []int{0, 6, 23} {
			for _, owner := range []string{"alice", "bob"} {
				id++
				execAll(t, sq, fmt.Sprintf(`INSERT INTO builds (id, spec_id, env_id, owner_key, owner, status, created_at, updated_at)
VALUES (%d, 1, 1, 'k%d', '%s', 'NOTRUN', '%s', '%s')`, id, id, owner, at(days, hours), at(days, hours)))
			}
		}
	}
	check := func(step string) {
		t.Helper()
		for _, since := range []time.Time{today.AddDate(0, 0, -30), today.AddDate(0, 0, -2), today.AddDate(0, 0, -2).Add(3 * time.Hour),
			today.AddDate(0, 0, -1).Add(23 * time.Hour), today, today.Add(12 * time.Hour), today.AddDate(0, 0, 1)} {
			for _, owner := range []string{"", "alice", "bob", "carol"} {
				got, err := st.BuildCountsByDay(ctx, since, owner)
				if err != nil {
					t.Fatal(err)
				}
				if want := countBuilds(t, sq, since, owner); !reflect.DeepEqual(got, want) {
					t.Errorf("%s, since %s, owner %q: %+v, want %+v", step, since, owner, got, want)
				}
			}
		}
	}
	check("inserted")
	execAll(t, sq, `UPDATE builds SET status = 'SUCCESS' WHERE id % 3 = 0`, `UPDATE builds SET status = 'FAILED' WHERE id % 3 = 1`)
	check("statuses set")
	execAll(t, sq, `UPDATE builds SET status = status, owner = owner`)
	check("statuses and owners set to themselves")
	execAll(t, sq, `UPDATE builds SET owner = 'carol' WHERE owner = 'bob' AND id % 4 = 0`)
	check("owner renamed")
	execAll(t, sq, `DELETE FROM builds WHERE id % 5 = 0`, `UPDATE builds SET created_at = '`+at(1, 1)+`' WHERE id = 1`)
	check("builds deleted, one moved")
	var zero int
	if err := sq.Read.QueryRowContext(ctx, `SELECT count(*) FROM build_day_counts WHERE builds <= 0`).Scan(&zero); err != nil || zero != 0 {
		t.Errorf("rows at 0: %d, %v", zero, err)
	}
	if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, 14, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	upgrade(t, sq)
	check("backfilled")
}

// countBuilds counts the builds of owner (all when "") created at or after since, by day
// and status, from the builds themselves.
func countBuilds(t *testing.T, sq *db.SQLite, since time.Time, owner string) []store.DayCount {
	t.Helper()
	rs, err := sq.Read.Query(`
SELECT substr(created_at, 1, 10), status, count(*) FROM builds
WHERE created_at >= ?1 AND (?2 = '' OR owner = ?2) GROUP BY 1, 2 ORDER BY 1, 2`,
		since.UTC().Format("2006-01-02T15:04:05.000000Z"), owner)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []store.DayCount
	for rs.Next() {
		var c store.DayCount
		if err := rs.Scan(&c.Day, &c.Status, &c.Count); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
