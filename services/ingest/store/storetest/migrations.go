package storetest

import (
	"io/fs"
	"testing/fstest"
)

// MigrationsBefore is the migrations of fsys (one dialect's, at its root) whose names sort
// before name, for an upgrade test to start from an older schema.
func MigrationsBefore(fsys fs.FS, name string) (fs.FS, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	older := fstest.MapFS{}
	for _, e := range entries {
		if e.IsDir() || e.Name() >= name {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		older[e.Name()] = &fstest.MapFile{Data: data}
	}
	return older, nil
}
