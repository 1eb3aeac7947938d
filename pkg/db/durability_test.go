package db

import (
	"path/filepath"
	"testing"
)

// The writer commits in WAL mode with synchronous=NORMAL: a commit is in the WAL file, in
// the operating system's hands, before it returns, so it survives the process being killed
// (TestAcknowledgedWriteSurvivesKill runs that crash); only a power loss can take the last
// commits. Weaker settings (synchronous=OFF, or a rollback journal without FULL) would not
// keep that promise.
func TestSQLiteCommitsSurviveACrashOfTheProcess(t *testing.T) {
	sq, err := OpenSQLite(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	var mode string
	var synchronous int
	if err := sq.Write.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := sq.Write.QueryRow("PRAGMA synchronous").Scan(&synchronous); err != nil {
		t.Fatal(err)
	}
	const normal = 1 // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
	if mode != "wal" || synchronous < normal {
		t.Fatalf("journal_mode=%s synchronous=%d, want wal and at least NORMAL", mode, synchronous)
	}
}
