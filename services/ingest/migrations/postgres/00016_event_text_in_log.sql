-- An event found in a phase's log whose fingerprint an earlier event of the phase already
-- has keeps no copy of its text when its line can be read again whole (at most 4096
-- bytes): text_in_log marks it, its text is empty, and a read takes the line from the log
-- as it takes the context (text_in_log implies context_in_log). The first event of each
-- fingerprint keeps its text, and failure examples come only from events that keep it.
--
-- The check holds text_in_log to context_in_log. A replica still running the code before
-- this migration copies only the context when it prunes a log, and clears context_in_log:
-- the check makes that prune fail, to be done by a newer replica, rather than leave events
-- without a text. (Until it is replaced, such a replica lists those events without their
-- text.) NOT VALID: every existing row has text_in_log false, so nothing needs the scan.

-- +goose Up
ALTER TABLE phase_events ADD COLUMN text_in_log boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT phase_events_text_in_log_check CHECK (context_in_log OR NOT text_in_log) NOT VALID;

-- +goose Down
-- SQL cannot read a compressed log: a marked event takes the text of its phase's first
-- event of the same fingerprint, which differs from its own at most in what the
-- fingerprint leaves out (numbers, paths, names).
UPDATE phase_events e SET text = (
    SELECT f.text FROM phase_events f
    WHERE f.phase_id = e.phase_id AND f.fingerprint = e.fingerprint AND NOT f.text_in_log
    ORDER BY f.line_no, f.id LIMIT 1)
WHERE e.text_in_log;
ALTER TABLE phase_events DROP COLUMN text_in_log;
