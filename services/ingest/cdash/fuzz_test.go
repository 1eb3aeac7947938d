package cdash

import (
	"testing"
)

// FuzzParse feeds the part parser arbitrary bytes, seeded with every captured part: it must
// answer a part or ErrMalformed, never panic, and never return a part without a kind.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"ctest-success.jsonl", "ctest-script-full.jsonl", "ctest-launchers-build-failure.jsonl",
		"spack-v0.18-cdash-cc-error.jsonl", "spack-v0.18-cdash-concretization-failure.jsonl", "spack-v0.18-cdash-test-run.jsonl"} {
		for _, c := range readCapture(f, name) {
			if c.xmlPart() {
				f.Add([]byte(c.Body))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err == nil && p.Kind == "" {
			t.Fatalf("a part without a kind from %q", data)
		}
	})
}
