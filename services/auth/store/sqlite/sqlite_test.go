package sqlite_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/sqlitetest"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/sqlite"
	"github.com/spackmon/spackmon/services/auth/store/storetest"
)

// open makes a migrated database file in a directory of its own.
func open(tb testing.TB) (*sqlite.Store, *db.SQLite) {
	sq := sqlitetest.Open(tb, "auth", "auth.db", func(sq *db.SQLite) error {
		return db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
			db.WithVersionTable(migrations.VersionTable))
	})
	return sqlite.New(sq), sq
}

func TestMain(m *testing.M) { sqlitetest.Main(m) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { st, _ := open(t); return st })
}

// The migrations keep their own version table, and running them again changes nothing.
func TestMigrationsVersionTable(t *testing.T) {
	st, sq := open(t)
	defer st.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	var version int64
	if err := sq.Read.QueryRow("SELECT max(version_id) FROM auth_schema_version").Scan(&version); err != nil || version != 4 {
		t.Fatalf("auth_schema_version = %d, %v", version, err)
	}
}

// A closed database answers errs.Unavailable, not a failure of the request.
func TestClosedDatabaseIsUnavailable(t *testing.T) {
	st, _ := open(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.GetUser(ctx, "alice"); !errs.Is(err, errs.Unavailable) {
		t.Errorf("GetUser = %v, want Unavailable", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("CreateUser = %v, want Unavailable", err)
	}
}

// Upgrading a database of the first schema rebuilds auth_users without losing a user or a
// token (dropping the old table must not cascade), and ids are not reused from then on.
func TestUpgradeKeepsUsersAndTokens(t *testing.T) {
	ctx := context.Background()
	first, err := fs.ReadFile(migrations.SQLite, "00001_auth_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, fstest.MapFS{"00001_auth_schema.sql": {Data: first}},
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	alice, err := st.CreateUser(ctx, store.NewUser{Name: "alice", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	// The token is written as the first schema's store wrote it: today's writes columns that
	// only later migrations add.
	var tok store.Token
	if err := sq.Write.QueryRowContext(ctx, "INSERT INTO auth_tokens (user_id, prefix, hash, created_at) "+
		"VALUES (?1, 'smt_abc', X'68617368', '2026-01-02T03:04:05.000000Z') RETURNING id", alice.ID).Scan(&tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	got, u, err := st.FindToken(ctx, "smt_abc")
	if err != nil || got.ID != tok.ID || u.ID != alice.ID || !u.Admin {
		t.Fatalf("after the upgrade: token %+v, user %+v, %v", got, u, err)
	}
	if err := st.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if again, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); err != nil || again.ID == alice.ID {
		t.Errorf("new alice: %+v, %v; id %d reused", again, err, alice.ID)
	}
	var fk int
	if err := sq.Write.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign keys after the upgrade: %d, %v", fk, err)
	}
}

// Upgrading a database whose newest token was revoked and deleted (with its user) starts
// the token ids past it: the revocation list still names it.
func TestUpgradeSkipsRevokedTokenIDs(t *testing.T) {
	ctx := context.Background()
	earlier := fstest.MapFS{}
	for _, name := range []string{"00001_auth_schema.sql", "00002_revocations.sql", "00003_web_login.sql"} {
		data, err := fs.ReadFile(migrations.SQLite, name)
		if err != nil {
			t.Fatal(err)
		}
		earlier[name] = &fstest.MapFile{Data: data}
	}
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, earlier, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "dave"}); err != nil {
		t.Fatal(err)
	}
	revoked, err := st.AddToken(ctx, "dave", store.NewToken{Prefix: "smt_dave", Hash: []byte("hash")})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "erin"}); err != nil {
		t.Fatal(err)
	}
	tok, err := st.AddToken(ctx, "erin", store.NewToken{Prefix: "smt_erin", Hash: []byte("hash")})
	if err != nil || tok.ID <= revoked.ID {
		t.Errorf("erin's token %+v, %v; dave's revoked token had id %d", tok, err, revoked.ID)
	}
}
