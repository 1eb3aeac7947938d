package storetest

import (
	"fmt"
	"maps"
	"testing"

	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/store"
)

var concurrencyTests = []namedTest{
	{Name: "SameBuildRecordsAllSucceed", Fn: testConcurrentSameBuild},
	{Name: "ManyBuildsAtOnce", Fn: testConcurrentBuilds},
}

// Concurrent Records of one build (the same manifest, overlapping attributes, different
// environments) all succeed, and the environment is exactly one request's set, never a
// mix.
func testConcurrentSameBuild(t *testing.T, st store.Store) {
	d := loadDummyTar(t)
	envs := make([]map[string]string, goroutines)
	for i := range envs {
		envs[i] = map[string]string{"SPACK_COMMON": "c", fmt.Sprintf("SPACK_ONLY_%d", i): fmt.Sprint(i)}
	}
	errs := parallel(func(i int) error {
		a := d.analysis()
		a.Environment = envs[i]
		a.Attributes = []store.Attribute{
			{InstallFile: "bin/tar", Analyzer: "libabigail", Name: "abidw-xml", Value: ptr(fmt.Sprint(i))},
			{InstallFile: fmt.Sprintf("lib/x%d.so", i), Analyzer: "libabigail", Name: "abidw-xml", Value: ptr("x")},
		}
		_, err := st.Record(ctx(t), 1, a)
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Record %d: %v", i, err)
		}
	}
	if n := len(allFiles(t, st, store.InstallFileQuery{BuildID: 1})); n != 155+goroutines {
		t.Errorf("%d install files, want %d", n, 155+goroutines)
	}
	got := environment(t, st, 1)
	found := false
	for _, e := range envs {
		found = found || maps.Equal(got, e)
	}
	if !found {
		t.Errorf("environment = %v, not one request's set", got)
	}
	refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{1}, Analyzer: "libabigail"})
	if len(refs) != 1+goroutines {
		t.Errorf("%d attributes, want %d", len(refs), 1+goroutines)
	}
}

// Records of different builds at once neither fail nor see each other's rows.
func testConcurrentBuilds(t *testing.T, st store.Store) {
	d := loadDummyTar(t)
	errs := parallel(func(i int) error {
		_, err := st.Record(ctx(t), int64(100+i), d.analysis())
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Record %d: %v", i, err)
		}
	}
	for i := range goroutines {
		b := int64(100 + i)
		if n := len(allFiles(t, st, store.InstallFileQuery{BuildID: b, Limit: page.MaxSize})); n != 155 {
			t.Errorf("build %d: %d install files", b, n)
		}
		if env := environment(t, st, b); !maps.Equal(env, d.env) {
			t.Errorf("build %d: environment = %v", b, env)
		}
	}
}
