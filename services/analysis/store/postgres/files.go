package postgres

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// chunkFiles is the most files a chunk row holds. Larger chunks compress better; smaller
// ones cost less to rewrite when a request changes a few files, and bound what one read or
// write holds of a large manifest.
const chunkFiles = 512

// readChunks is how many chunks a list reads per round trip: a page of page.MaxSize files
// fits in three of them.
const readChunks = 4

// fileChunk is one row of analysis_install_file_chunks: files by path, first is the key it
// is stored under (files[0].Path once written).
type fileChunk struct {
	first string
	files []store.InstallFile
}

const chunkColumns = "first_path, paths, types, modes, owners, groups, hashes, sizes"

func scanChunk(r pgx.CollectableRow) (fileChunk, error) {
	var c fileChunk
	var paths, types, hashes []string
	var modes, owners, groups, sizes []*int64
	if err := r.Scan(&c.first, &paths, &types, &modes, &owners, &groups, &hashes, &sizes); err != nil {
		return c, err
	}
	c.files = make([]store.InstallFile, len(paths))
	for i := range paths {
		c.files[i] = store.InstallFile{Path: paths[i], Type: types[i], Mode: modes[i], Owner: owners[i],
			Group: groups[i], Hash: hashes[i], Size: sizes[i]}
	}
	return c, nil
}

// chunkRow is a chunk as the COPY of its row takes it.
func chunkRow(buildID int64, files []store.InstallFile) []any {
	n := len(files)
	paths, types, hashes := make([]string, n), make([]string, n), make([]string, n)
	modes, owners, groups, sizes := make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
	for i, f := range files {
		paths[i], types[i], hashes[i] = f.Path, f.Type, f.Hash
		modes[i], owners[i], groups[i], sizes[i] = f.Mode, f.Owner, f.Group, f.Size
	}
	return []any{buildID, paths[0], paths, types, modes, owners, groups, hashes, sizes}
}

// fileChange is one file a request writes: a manifest's file replaces the file of its path,
// a file named only by an attribute (ifAbsent) is added when the build has none of its path.
type fileChange struct {
	file     store.InstallFile
	ifAbsent bool
}

// changesOf merges a request's manifest files and attribute-named paths, both by path,
// into one list by path; a path in both is the manifest's file.
func changesOf(files []store.InstallFile, named []string) []fileChange {
	out := make([]fileChange, 0, len(files)+len(named))
	i := 0
	for _, f := range files {
		for ; i < len(named) && named[i] < f.Path; i++ {
			out = append(out, fileChange{file: store.InstallFile{Path: named[i]}, ifAbsent: true})
		}
		if i < len(named) && named[i] == f.Path {
			i++
		}
		out = append(out, fileChange{file: f})
	}
	for ; i < len(named); i++ {
		out = append(out, fileChange{file: store.InstallFile{Path: named[i]}, ifAbsent: true})
	}
	return out
}

// writeFiles writes a request's files into the build's chunks. Each file belongs to the
// chunk with the greatest first path not above its own (the first chunk for a path below
// them all); only the chunks that receive a change are read and rewritten, split again when
// they outgrow chunkFiles. The caller holds the build's lock.
func writeFiles(ctx context.Context, tx pgx.Tx, buildID int64, changes []fileChange) error {
	rs, err := tx.Query(ctx, "SELECT first_path FROM analysis_install_file_chunks WHERE build_id = $1 ORDER BY first_path", buildID)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return err
	}
	// groups[k] are the changes that fall in chunk keys[k]; with no chunks, one new group.
	var touched []string
	groups := map[string][]fileChange{}
	for _, c := range changes {
		key := ""
		if len(keys) > 0 {
			k, found := slices.BinarySearch(keys, c.file.Path)
			if !found {
				k = max(k-1, 0)
			}
			key = keys[k]
		}
		if _, ok := groups[key]; !ok {
			touched = append(touched, key)
		}
		groups[key] = append(groups[key], c)
	}
	existing := map[string][]store.InstallFile{}
	if len(keys) > 0 {
		rs, err := tx.Query(ctx, "SELECT "+chunkColumns+" FROM analysis_install_file_chunks WHERE build_id = $1 AND first_path = ANY($2::text[])",
			buildID, touched)
		if err != nil {
			return err
		}
		chunks, err := pgx.CollectRows(rs, scanChunk)
		if err != nil {
			return err
		}
		for _, c := range chunks {
			existing[c.first] = c.files
		}
	}
	var stale []string
	var rows [][]any
	for _, key := range touched {
		merged, changed := mergeFiles(existing[key], groups[key])
		if !changed {
			continue
		}
		if _, ok := existing[key]; ok {
			stale = append(stale, key)
		}
		for _, piece := range split(merged) {
			rows = append(rows, chunkRow(buildID, piece))
		}
	}
	if len(stale) > 0 {
		if _, err := tx.Exec(ctx, "DELETE FROM analysis_install_file_chunks WHERE build_id = $1 AND first_path = ANY($2::text[])", buildID, stale); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"analysis_install_file_chunks"},
		[]string{"build_id", "first_path", "paths", "types", "modes", "owners", "groups", "hashes", "sizes"},
		pgx.CopyFromRows(rows))
	return err
}

// mergeFiles applies changes (by path) to a chunk's files (by path), and says whether that
// changed anything.
func mergeFiles(files []store.InstallFile, changes []fileChange) ([]store.InstallFile, bool) {
	out := make([]store.InstallFile, 0, len(files)+len(changes))
	changed := false
	i := 0
	for _, c := range changes {
		for ; i < len(files) && files[i].Path < c.file.Path; i++ {
			out = append(out, files[i])
		}
		if i < len(files) && files[i].Path == c.file.Path {
			if c.ifAbsent {
				out = append(out, files[i])
				i++
				continue
			}
			i++
		}
		out = append(out, c.file)
		changed = true
	}
	return append(out, files[i:]...), changed
}

// split cuts files into chunks of at most chunkFiles, all of about the same length.
func split(files []store.InstallFile) [][]store.InstallFile {
	n := (len(files) + chunkFiles - 1) / chunkFiles
	out := make([][]store.InstallFile, n)
	for i := range n {
		out[i] = files[i*len(files)/n : (i+1)*len(files)/n]
	}
	return out
}

// listChunks reads, in order, up to readChunks of a build's chunks from the one holding
// path $2 (or the first), skipping those without a file of type $3 (any when ”) and those
// past the paths starting with $4: a chunk that starts past the prefix without starting
// with it holds no path with it, nor does any chunk after it.
var listChunks = "SELECT " + chunkColumns + " FROM analysis_install_file_chunks WHERE build_id = $1 AND first_path >= " +
	"COALESCE((SELECT max(first_path) FROM analysis_install_file_chunks WHERE build_id = $1 AND first_path <= $2), '') " +
	"AND ($3 = '' OR $3 = ANY(types)) AND (first_path <= $4 OR starts_with(first_path, $4)) " +
	"ORDER BY first_path LIMIT " + strconv.Itoa(readChunks)

// ListInstallFiles returns a page of the build's install files, by path: it reads the build's
// chunks in order from the one that holds the page's first possible path, readChunks at a
// time, until the page is full or no later path can match. Each round starts again from the
// chunk holding the last path it has seen, and takes only later paths: a write between two
// rounds may have split or merged chunks, never a page's order.
func (s *Store) ListInstallFiles(ctx context.Context, q store.InstallFileQuery) ([]store.InstallFile, error) {
	limit := page.Size(q.Limit)
	out := []store.InstallFile{}
	seen := q.After
	from := max(q.After, q.PathPrefix)
	for {
		rs, err := s.pool.Query(ctx, listChunks, q.BuildID, from, q.Type, q.PathPrefix)
		if err != nil {
			return nil, wrap("list install files", err)
		}
		chunks, err := pgx.CollectRows(rs, scanChunk)
		if err != nil {
			return nil, wrap("list install files", err)
		}
		for _, c := range chunks {
			for _, f := range c.files {
				if f.Path <= seen || f.Path < q.PathPrefix {
					continue
				}
				if !strings.HasPrefix(f.Path, q.PathPrefix) {
					return out, nil // past every path with the prefix
				}
				if q.Type == "" || f.Type == q.Type {
					if out = append(out, f); len(out) == limit {
						return out, nil
					}
				}
			}
		}
		if len(chunks) < readChunks {
			return out, nil
		}
		last := chunks[len(chunks)-1].files
		seen = max(seen, last[len(last)-1].Path)
		from = seen
	}
}
