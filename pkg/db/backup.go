package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// BackupSQLite writes a consistent copy of the SQLite database at src to the new file dst
// while other connections, of this process or another, go on reading and writing src:
// VACUUM INTO copies the snapshot of one read transaction, which WAL mode lets run beside
// the writer, and leaves src as it is. The copy is synced to disk before it is returned.
func BackupSQLite(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup of %s: %w", src, err)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup to %s: the file exists already (or cannot be checked: %v)", dst, err)
	}
	// Read-only: the copy must not change the database it copies.
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: src}).EscapedPath()+"?mode=ro&"+sqliteCommonParams)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup of %s: %w", src, err)
	}
	return SyncPath(dst)
}

// SyncPath flushes the file at path to disk; for a directory, the names made in it.
func SyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
