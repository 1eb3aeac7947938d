package signing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// KeyFileName is the name of the generated key inside the data directory.
const KeyFileName = "auth-signing-key.pem"

// LoadOrGenerate returns the key stored in dir/KeyFileName, generating an Ed25519 key there
// (mode 0600, directory 0700 when created) on the first start. Two processes starting at once
// on the same directory end up with the same key: the file appears complete or not at all, and
// the one that loses the race loads the winner's key.
func LoadOrGenerate(dir string) (*Key, error) {
	path := filepath.Join(dir, KeyFileName)
	k, err := LoadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signing: create key directory: %w", err)
	}
	k, err = GenerateEd25519()
	if err != nil {
		return nil, err
	}
	data, err := k.MarshalPEM()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".signing-key-*") // created with mode 0600
	if err != nil {
		return nil, fmt.Errorf("signing: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndSync(tmp, data); err != nil {
		return nil, fmt.Errorf("signing: write key: %w", err)
	}
	// A hard link never replaces an existing file, unlike rename.
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return k, nil
	case errors.Is(err, fs.ErrExist):
		return LoadFile(path)
	}
	// Filesystems without hard links: fall back to rename after a last existence check.
	if _, err := os.Stat(path); err == nil {
		return LoadFile(path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("signing: write key: %w", err)
	}
	return k, nil
}

func writeAndSync(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WatchFile rotates set to the key in path whenever the file's content changes, checking every
// interval until ctx ends: an operator rotates by replacing the file, without a restart. A new
// key is first only published (KeySet.Stage) and signs from ahead later, so that every
// verifier has fetched it by then, and every replica of the realm has seen the file. A file
// that cannot be read or parsed keeps the keys as they are and is reported to onError.
func WatchFile(ctx context.Context, path string, set *KeySet, interval, ahead time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var staged *Key
	var signFrom time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		k, err := LoadFile(path)
		switch {
		case err != nil:
			onError(err)
		case k.KID() == set.Current().KID():
			staged = nil
			set.Stage(nil)
		case staged == nil || staged.KID() != k.KID():
			staged, signFrom = k, now.Add(ahead)
			set.Stage(k)
		}
		if staged != nil && !now.Before(signFrom) {
			if err := set.Rotate(staged, now); err != nil {
				onError(err)
			}
			staged = nil
		}
	}
}

// CopyFile copies the key file at src to dst, a new file private to its owner, synced to
// disk (a backup of the realm's key). A missing src is an fs.ErrNotExist error.
func CopyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return writeAndSync(f, data)
}
