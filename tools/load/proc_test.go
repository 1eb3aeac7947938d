package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// The readers of /proc measure this test's own process: its CPU time grows while it works,
// and its peak RSS is at least what it holds.
func TestProcessMeasures(t *testing.T) {
	pid := os.Getpid()
	before, err := processCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<20)
	for i := range block {
		block[i] = byte(i)
	}
	sum := sha256.Sum256(nil)
	for after := before; after == before; {
		for range 100 {
			sum = sha256.Sum256(append(sum[:], block[:1<<20]...))
		}
		if after, err = processCPU(pid); err != nil {
			t.Fatal(err)
		}
		if after < before {
			t.Fatalf("CPU time went from %v back to %v", before, after)
		}
	}
	peak, err := peakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if peak < int64(len(block)) {
		t.Errorf("peak RSS %d bytes while holding %d", peak, len(block))
	}
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestDirBytes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"a": 1000, "sub/b": 2345} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := dirBytes(dir); err != nil || n != 3345 {
		t.Errorf("dirBytes = %d, %v; want 3345", n, err)
	}
}
