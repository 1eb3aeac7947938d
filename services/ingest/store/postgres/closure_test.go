package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestClosureBackfill(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.Postgres, func(q string) error {
		_, err := pool.Exec(context.Background(), q)
		return err
	}, "00012_compact_storage.sql")
}

// TestClosureStubBelowFrontier writes a referrer while a stub it copies pairs from is
// filled, in the order that lost pairs: the referrer has read what it copies and is slowed
// down (a trigger sleeps in its closure insert) when the stub's own document arrives. The
// stub is the referrer's dependency itself, or below a stored spec that is.
func TestClosureStubBelowFrontier(t *testing.T) {
	node := func(name string, deps ...spackspec.Dep) spackspec.Node {
		return spackspec.Node{Name: name, Version: "1", Namespace: "builtin", FullHash: name + "-fh", Hash: name + "-h",
			Parameters: []byte(`{}`), Deps: deps}
	}
	ref := func(name string) spackspec.Dep {
		return spackspec.Dep{Name: name, Ref: name + "-fh", Index: -1, Types: []string{"link"}}
	}
	doc := func(nodes ...spackspec.Node) *spackspec.Document { return &spackspec.Document{Nodes: nodes} }
	// lib is a stub that app refers to; its document brings zlib below it.
	stored := doc(node("app", ref("lib")))
	fill := doc(node("lib", spackspec.Dep{Name: "zlib", Ref: "zlib-fh", Index: 1, Types: []string{"link"}}), node("zlib"))
	for _, referrer := range []string{"lib", "app"} {
		t.Run("refers to "+referrer, func(t *testing.T) {
			ctx := context.Background()
			st, pool := openPool(t)
			defer st.Close()
			if _, err := st.PutSpec(ctx, "0.17.1", stored); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `
CREATE FUNCTION slow_referrer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM specs WHERE id = NEW.ancestor AND name = 'slow') THEN PERFORM pg_sleep(1.5); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER slow_referrer AFTER INSERT ON spec_closure FOR EACH ROW EXECUTE FUNCTION slow_referrer();`); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			put := func(d *spackspec.Document, after time.Duration) {
				defer wg.Done()
				time.Sleep(after)
				if _, err := st.PutSpec(ctx, "0.17.1", d); err != nil {
					t.Error(err)
				}
			}
			wg.Add(2)
			go put(doc(node("slow", ref(referrer))), 0)
			go put(fill, 300*time.Millisecond)
			wg.Wait()
			for _, name := range []string{"slow", "app"} {
				var ok bool
				if err := pool.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM spec_closure c JOIN specs a ON a.id = c.ancestor JOIN specs d ON d.id = ANY (c.descendants)
               WHERE a.name = $1 AND d.name = 'zlib')`, name).Scan(&ok); err != nil || !ok {
					t.Errorf("%s depends on zlib: %v, %v", name, ok, err)
				}
			}
		})
	}
}
