package db

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// A backup taken while a writer commits holds every row committed before it started, is a
// database of its own, and leaves the source as it was; a second backup to the same file
// is refused rather than overwriting it.
func TestBackupSQLiteWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := OpenSQLite(filepath.Join(dir, "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Write.ExecContext(ctx, "CREATE TABLE rows (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	insert := func(n int) {
		if _, err := src.Write.ExecContext(ctx, "INSERT INTO rows (n) VALUES (?)", n); err != nil {
			t.Error(err)
		}
	}
	const before = 200
	for n := range before {
		insert(n)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for n := before; ; n++ {
			select {
			case <-stop:
				return
			default:
				insert(n)
			}
		}
	})
	dst := filepath.Join(dir, "copy.db")
	err = BackupSQLite(ctx, filepath.Join(dir, "src.db"), dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := OpenSQLite(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var count, maxN int
	if err := cp.Read.QueryRowContext(ctx, "SELECT count(*), max(n) FROM rows").Scan(&count, &maxN); err != nil {
		t.Fatal(err)
	}
	// A snapshot: every row up to the last one it holds, none missing in between.
	if count < before || count != maxN+1 {
		t.Fatalf("copy holds %d rows up to %d, want at least %d and no gaps", count, maxN, before)
	}
	var check string
	if err := cp.Read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity of the copy: %q %v", check, err)
	}
	if err := BackupSQLite(ctx, filepath.Join(dir, "src.db"), dst); err == nil {
		t.Fatal("a backup over an existing file was made")
	}
	// Also when no one has it open (no WAL files beside it).
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := BackupSQLite(ctx, filepath.Join(dir, "src.db"), filepath.Join(dir, "idle.db")); err != nil {
		t.Fatalf("backup of a database no one has open: %v", err)
	}
	if err := BackupSQLite(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "m.db")); err == nil {
		t.Fatal("a backup of a missing database was made")
	}
}
