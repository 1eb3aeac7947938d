package sqlite_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store"
)

// An event stored before migration 00011 answers with the context it was stored with,
// not with lines of its phase's log, after the upgrade.
func TestUpgradeKeepsEventContext(t *testing.T) {
	sq, st := firstSchema(t)
	execAll(t, sq,
		// The log is not zstd, so a read that went to it for context would fail.
		`INSERT INTO phases (id, build_id, name, status, output, output_bytes, updated_at)
		 VALUES (1, 1, 'build', 'ERROR', x'00ff', 2, '`+firstSchemaAt+`')`,
		`INSERT INTO phase_events (phase_id, kind, line_no, text, pre_context, post_context, start_line, end_line)
		 VALUES (1, 'error', 3, 'error: old', 'one' || char(10) || 'two', 'four', 1, 5)`)
	upgrade(t, sq)
	events, err := st.ListEvents(context.Background(), store.EventQuery{BuildID: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("ListEvents = %+v, %v", events, err)
	}
	if e := events[0]; e.PreContext != "one\ntwo" || e.PostContext != "four" || e.Start != 1 || e.End != 5 || e.ContextInLog {
		t.Fatalf("the old event after the upgrade: %+v", e)
	}
}
