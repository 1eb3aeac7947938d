-- An event found in a phase's log whose fingerprint an earlier event of the phase already
-- has keeps no copy of its text when its line can be read again whole (at most 4096
-- bytes): text_in_log marks it, its text is empty, and a read takes the line from the log
-- as it takes the context (text_in_log implies context_in_log). The first event of each
-- fingerprint keeps its text, and failure examples come only from events that keep it.

-- +goose Up
-- One line: the store names a refused value's column from the line its CHECK is on.
ALTER TABLE phase_events ADD COLUMN text_in_log INTEGER NOT NULL DEFAULT 0 CHECK (text_in_log IN (0, 1) AND (text_in_log = 0 OR context_in_log = 1));

-- +goose Down
-- SQL cannot read a compressed log: a marked event takes the text of its phase's first
-- event of the same fingerprint, which differs from its own at most in what the
-- fingerprint leaves out (numbers, paths, names).
UPDATE phase_events SET text = (
    SELECT f.text FROM phase_events f
    WHERE f.phase_id = phase_events.phase_id AND f.fingerprint = phase_events.fingerprint AND f.text_in_log = 0
    ORDER BY f.line_no, f.id LIMIT 1)
WHERE text_in_log = 1;
ALTER TABLE phase_events DROP COLUMN text_in_log;
