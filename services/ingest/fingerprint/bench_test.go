package fingerprint_test

import (
	"fmt"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
)

// BenchmarkOfGCCWarnings fingerprints GCC warnings as a build log holds them (relative source
// paths, line and column, the warning option), the events of most phase uploads.
func BenchmarkOfGCCWarnings(b *testing.B) {
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = fmt.Sprintf("src/file%d.c:%d:%d: warning: comparison of integer expressions of different signedness: 'int' and 'size_t' [-Wsign-compare]", i%10, 20+i*37, 3+i%40)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fingerprint.Of(logparse.Warning, texts[i%len(texts)])
	}
}
