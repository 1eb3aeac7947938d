-- Events found in a phase's log need no copy of their context: it is the lines start_line
-- to end_line of the log, read again when the event is read. context_in_log marks those
-- events (their pre_context and post_context are empty). Events stored before, and events
-- without a log to read from (CDash and JUnit submissions, client-found events), keep
-- their copy and the mark false, so every answer stays as it was.

-- +goose Up
ALTER TABLE phase_events ADD COLUMN context_in_log boolean NOT NULL DEFAULT false;

-- +goose Down
-- Events marked context_in_log keep no copy to move back: after a downgrade they answer
-- without context (their log is still there whole).
ALTER TABLE phase_events DROP COLUMN context_in_log;
