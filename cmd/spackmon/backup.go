package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/signing"
)

var errBackupUsage = errors.New("usage: spackmon backup DIR [--data-dir D]")

// backupConfig configures spackmon backup.
type backupConfig struct {
	config.Database
	config.Log
}

// backupOrder is the order the SQLite files are copied in: each service's rows name rows of
// the services copied after it (analysis names ingest's builds, builds name auth's users),
// and rows are made before they are named, so every row a copied file names is in a copy
// taken later.
var backupOrder = []schema{analysisSchema, ingestSchema, authSchema}

// runBackup copies the SQLite data dir of spackmon serve into DIR while it serves: each
// database file as a consistent snapshot, and the realm's signing key, so that
// serve --data-dir DIR starts from the copy with the same users, tokens and data.
func runBackup(ctx context.Context, args []string) error {
	var cfg backupConfig
	loadErr := config.Load(&cfg)
	fs := flag.NewFlagSet("spackmon backup", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "SQLite data directory to copy")
	dirs, err := parseArgs(fs, args, os.Stdout, func(w io.Writer) {
		fmt.Fprintln(w, errBackupUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nCopies the SQLite files of --data-dir (SPACKMON_DATA_DIR) into DIR, which must hold none of them yet, while the server runs.")
	})
	switch {
	case err != nil:
		return err
	case loadErr != nil:
		return loadErr
	case len(dirs) != 1:
		return errBackupUsage
	case cfg.URL != "":
		return errors.New("spackmon backup copies the SQLite data dir; with SPACKMON_DATABASE_URL, back PostgreSQL up with its own tools (pg_dump, pg_basebackup)")
	}
	if err := backupDataDir(ctx, cfg.DataDir, dirs[0]); err != nil {
		return err
	}
	fmt.Println("backed up", cfg.DataDir, "to", dirs[0])
	return nil
}

// backupDataDir copies the data dir src into dst. Each file is written under a temporary
// name and renamed when complete, so that a failed backup leaves no file that looks whole.
func backupDataDir(ctx context.Context, src, dst string) error {
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return fmt.Errorf("backup dir: %w", err)
	}
	for _, sc := range backupOrder {
		final := filepath.Join(dst, sc.sqliteFile)
		if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s exists already: back up into a new directory", final)
		}
		partial := final + ".partial"
		_ = os.Remove(partial) // left by an earlier backup that failed
		if err := db.BackupSQLite(ctx, filepath.Join(src, sc.sqliteFile), partial); err != nil {
			_ = os.Remove(partial)
			return err
		}
		if err := os.Rename(partial, final); err != nil {
			return err
		}
	}
	if err := copyKey(filepath.Join(src, signing.KeyFileName), filepath.Join(dst, signing.KeyFileName)); err != nil {
		return err
	}
	return db.SyncPath(dst) // the renames
}

// copyKey copies the realm's generated signing key, when there is one.
func copyKey(src, dst string) error {
	err := signing.CopyFile(src, dst)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the realm signs with SPACKMON_AUTH_SIGNING_KEY_FILE, kept elsewhere
	}
	return err
}
