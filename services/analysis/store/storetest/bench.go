package storetest

import (
	"fmt"
	"testing"

	"github.com/spackmon/spackmon/services/analysis/manifest"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// ManifestFiles is the size of the manifest Bench records: the largest a service must
// store in one request in under a second on PostgreSQL.
const ManifestFiles = 20_000

// Bench measures Record on the store open returns (one store for each sub-benchmark):
//   - Manifest20kNew: a 20,000-file manifest (built the way the service builds it, from
//     absolute paths) for a new build each time;
//   - Manifest20kRepeat: the same manifest for the same build again, every row an update;
//   - Attributes1k: 1,000 attributes of one build, replaced each time;
//   - ListByType: a page of 100 of that manifest's directories, and the empty page of a
//     type none of its files has, which reads all of them.
func Bench(b *testing.B, open func(tb testing.TB) store.Store) {
	files := bigManifest()
	b.Run("Manifest20kNew", func(b *testing.B) {
		st := openFor(b, open)
		c := ctx(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if sum, err := st.Record(c, int64(i+1), store.Analysis{InstallFiles: files}); err != nil || sum.InstallFiles != ManifestFiles {
				b.Fatalf("Record: %+v, %v", sum, err)
			}
		}
	})
	b.Run("Manifest20kRepeat", func(b *testing.B) {
		st := openFor(b, open)
		c := ctx(b)
		record(b, st, 1, store.Analysis{InstallFiles: files})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if sum, err := st.Record(c, 1, store.Analysis{InstallFiles: files}); err != nil || sum.InstallFiles != ManifestFiles {
				b.Fatalf("Record: %+v, %v", sum, err)
			}
		}
	})
	b.Run("Attributes1k", func(b *testing.B) {
		st := openFor(b, open)
		c := ctx(b)
		attrs := make([]store.Attribute, 1000)
		for i := range attrs {
			attrs[i] = store.Attribute{InstallFile: fmt.Sprintf("lib/lib%04d.so", i), Analyzer: "symbolator", Name: "symbolator-json",
				JSONValue: ptr(fmt.Sprintf(`{"library": "lib%04d.so", "symbols": []}`, i))}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if sum, err := st.Record(c, 1, store.Analysis{Attributes: attrs}); err != nil || sum.Attributes != len(attrs) {
				b.Fatalf("Record: %+v, %v", sum, err)
			}
		}
	})
	b.Run("ListByType", func(b *testing.B) {
		st := openFor(b, open)
		record(b, st, 1, store.Analysis{InstallFiles: files})
		for _, q := range []struct {
			name, fileType string
			want           int
		}{{"dirs", "dir", 100}, {"absent", "link", 0}} {
			b.Run(q.name, func(b *testing.B) {
				c := ctx(b)
				for range b.N {
					got, err := st.ListInstallFiles(c, store.InstallFileQuery{BuildID: 1, Type: q.fileType, Limit: 100})
					if err != nil || len(got) != q.want {
						b.Fatalf("ListInstallFiles: %d files, %v", len(got), err)
					}
				}
			})
		}
	})
}

func openFor(b *testing.B, open func(tb testing.TB) store.Store) store.Store {
	st := open(b)
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// bigManifest is a manifest of ManifestFiles entries under one Spack prefix, a tenth of
// them directories, made relative as the service does.
func bigManifest() []store.InstallFile {
	const prefix = "/opt/spack/opt/spack/linux-debian12-x86_64_v2/gcc-12.2.0/big-1.0-abcdefghijklmnopqrstuvwxyz234567"
	m := map[string]manifest.Entry{prefix + "/.spack": {Type: "dir", Mode: ptr[int64](17901), Owner: ptr[int64](0), Group: ptr[int64](0)}}
	for i := len(m); len(m) < ManifestFiles; i++ {
		dir := fmt.Sprintf("%s/share/big/d%04d", prefix, i/10)
		if i%10 == 0 {
			m[dir] = manifest.Entry{Type: "dir", Mode: ptr[int64](17901), Owner: ptr[int64](0), Group: ptr[int64](0)}
			continue
		}
		m[fmt.Sprintf("%s/file-%06d.dat", dir, i)] = manifest.Entry{Type: "file", Mode: ptr[int64](33188), Owner: ptr[int64](0), Group: ptr[int64](0),
			Hash: fmt.Sprintf("%032d", i), Size: ptr(int64(i * 17))}
	}
	return manifest.Files(m)
}
