-- A phase's events are kept in one row, an array per field, instead of a row per event.
-- They are always written together (a report of a phase replaces all of them) and read by
-- phase, so a row per event paid 28 bytes of header and pointer, an identity and two index
-- entries for nothing: 34.5 KB per spec of the 154.3 on a 300-spec run of the load tool.
-- Parsing keeps at most 500 errors and 500 warnings of a phase (logparse.MaxEvents), but a
-- database written before that cap may hold phases of many thousands.
--
-- An event's id is its list's id times 2^20 (1,048,576) plus its place in the list (from
-- 0), so ids still grow in the order events were written and a replaced phase's events get
-- new ones; a statement that has an event's id finds its list by the primary key (id /
-- 2^20). Ids stay below 2^53, exact in JSON, for 8.5 billion lists. The view phase_events
-- shows the rows as they were, with list_id, for the reads; writes go to the lists, so
-- ingest replicas of an older image fail to write phases until they are replaced. Upgrading
-- gives every existing event a new id (the examples of build_fingerprints follow): event
-- ids held by clients from before no longer resolve.
--
-- context_in_log was the same for every event of a phase, so it is the list's.

-- +goose Up
-- +goose StatementBegin
-- Whether every value is present and at most max characters long.
CREATE FUNCTION event_texts_valid(vals text[], max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM unnest(vals) AS v WHERE v IS NULL OR length(v) > max)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
-- Whether every fingerprint is NULL (not yet backfilled) or 16 characters.
CREATE FUNCTION event_prints_valid(prints text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM unnest(prints) AS f WHERE length(f) <> 16)
$$;
-- +goose StatementEnd

CREATE TABLE phase_event_lists (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phase_id       bigint NOT NULL UNIQUE REFERENCES phases (id) ON DELETE CASCADE,
    context_in_log boolean NOT NULL,
    kinds          text[] NOT NULL CHECK (kinds <@ ARRAY['error', 'warning']),
    line_nos       integer[] NOT NULL CHECK (array_position(line_nos, NULL) IS NULL),
    texts          text[] NOT NULL CHECK (event_texts_valid(texts, 1048576)),
    source_files   text[] NOT NULL CHECK (event_texts_valid(source_files, 4096)),
    source_lines   integer[] NOT NULL CHECK (array_position(source_lines, NULL) IS NULL),
    pre_contexts   text[] NOT NULL CHECK (event_texts_valid(pre_contexts, 8388608)),
    post_contexts  text[] NOT NULL CHECK (event_texts_valid(post_contexts, 8388608)),
    start_lines    integer[] NOT NULL CHECK (array_position(start_lines, NULL) IS NULL),
    end_lines      integer[] NOT NULL CHECK (array_position(end_lines, NULL) IS NULL),
    repeat_counts  bigint[] NOT NULL CHECK (array_position(repeat_counts, NULL) IS NULL AND 0 <= ALL (repeat_counts)),
    fingerprints   text[] NOT NULL CHECK (event_prints_valid(fingerprints)),
    text_in_log    boolean[] NOT NULL CHECK (array_position(text_in_log, NULL) IS NULL),
    CONSTRAINT phase_event_lists_shape CHECK (
        cardinality(kinds) BETWEEN 1 AND 1048576
        AND cardinality(line_nos) = cardinality(kinds) AND cardinality(texts) = cardinality(kinds)
        AND cardinality(source_files) = cardinality(kinds) AND cardinality(source_lines) = cardinality(kinds)
        AND cardinality(pre_contexts) = cardinality(kinds) AND cardinality(post_contexts) = cardinality(kinds)
        AND cardinality(start_lines) = cardinality(kinds) AND cardinality(end_lines) = cardinality(kinds)
        AND cardinality(repeat_counts) = cardinality(kinds) AND cardinality(fingerprints) = cardinality(kinds)
        AND cardinality(text_in_log) = cardinality(kinds)),
    -- An event keeps its text in the log only while it keeps its context there (00016).
    CONSTRAINT phase_event_lists_text_needs_context CHECK (context_in_log OR NOT (true = ANY (text_in_log)))
);
-- The background backfill finds the lists with events not yet fingerprinted.
CREATE INDEX phase_event_lists_unprinted_idx ON phase_event_lists (id) WHERE array_position(fingerprints, NULL) IS NOT NULL;

-- Lists are numbered in the order of their phases' first events, events in id order.
INSERT INTO phase_event_lists (id, phase_id, context_in_log, kinds, line_nos, texts, source_files, source_lines,
                               pre_contexts, post_contexts, start_lines, end_lines, repeat_counts, fingerprints, text_in_log)
OVERRIDING SYSTEM VALUE
SELECT row_number() OVER (ORDER BY min(id)), phase_id, bool_or(context_in_log), array_agg(kind ORDER BY id),
       array_agg(line_no ORDER BY id), array_agg(text ORDER BY id), array_agg(source_file ORDER BY id),
       array_agg(source_line ORDER BY id), array_agg(pre_context ORDER BY id), array_agg(post_context ORDER BY id),
       array_agg(start_line ORDER BY id), array_agg(end_line ORDER BY id), array_agg(repeat_count ORDER BY id),
       array_agg(fingerprint ORDER BY id), array_agg(text_in_log ORDER BY id)
FROM phase_events GROUP BY phase_id;
SELECT setval(pg_get_serial_sequence('phase_event_lists', 'id'), coalesce(max(id), 0) + 1, false) FROM phase_event_lists;

UPDATE build_fingerprints bf SET example_event = m.new_id
FROM (SELECT e.id AS old_id, l.id * 1048576 + row_number() OVER (PARTITION BY e.phase_id ORDER BY e.id) - 1 AS new_id
      FROM phase_events e JOIN phase_event_lists l ON l.phase_id = e.phase_id) AS m
WHERE bf.example_event = m.old_id;

DROP TABLE phase_events;

CREATE VIEW phase_events AS
SELECT l.id * 1048576 + e.n - 1 AS id, l.id AS list_id, l.phase_id, e.kind, e.line_no, e.text, e.source_file, e.source_line,
       e.pre_context, e.post_context, e.start_line, e.end_line, e.repeat_count, e.fingerprint, l.context_in_log, e.text_in_log
FROM phase_event_lists l,
     unnest(l.kinds, l.line_nos, l.texts, l.source_files, l.source_lines, l.pre_contexts, l.post_contexts, l.start_lines,
            l.end_lines, l.repeat_counts, l.fingerprints, l.text_in_log)
     WITH ORDINALITY AS e(kind, line_no, text, source_file, source_line, pre_context, post_context, start_line, end_line,
                          repeat_count, fingerprint, text_in_log, n);

-- +goose Down
DROP VIEW phase_events;
CREATE TABLE phase_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phase_id       bigint NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('error', 'warning')),
    line_no        integer NOT NULL,
    text           text NOT NULL CHECK (length(text) <= 1048576),
    source_file    text NOT NULL DEFAULT '' CHECK (length(source_file) <= 4096),
    source_line    integer NOT NULL DEFAULT 0,
    pre_context    text NOT NULL DEFAULT '' CHECK (length(pre_context) <= 8388608),
    post_context   text NOT NULL DEFAULT '' CHECK (length(post_context) <= 8388608),
    start_line     integer NOT NULL,
    end_line       integer NOT NULL,
    repeat_count   bigint NOT NULL DEFAULT 0 CHECK (repeat_count >= 0),
    fingerprint    text CHECK (length(fingerprint) = 16),
    context_in_log boolean NOT NULL DEFAULT false,
    text_in_log    boolean NOT NULL DEFAULT false,
    CONSTRAINT phase_events_text_in_log_check CHECK (context_in_log OR NOT text_in_log)
);
-- Ids stay as they are: the examples of build_fingerprints still name their events.
INSERT INTO phase_events (id, phase_id, kind, line_no, text, source_file, source_line, pre_context, post_context,
                          start_line, end_line, repeat_count, fingerprint, context_in_log, text_in_log)
OVERRIDING SYSTEM VALUE
SELECT l.id * 1048576 + e.n - 1, l.phase_id, e.kind, e.line_no, e.text, e.source_file, e.source_line, e.pre_context,
       e.post_context, e.start_line, e.end_line, e.repeat_count, e.fingerprint, l.context_in_log, e.text_in_log
FROM phase_event_lists l,
     unnest(l.kinds, l.line_nos, l.texts, l.source_files, l.source_lines, l.pre_contexts, l.post_contexts, l.start_lines,
            l.end_lines, l.repeat_counts, l.fingerprints, l.text_in_log)
     WITH ORDINALITY AS e(kind, line_no, text, source_file, source_line, pre_context, post_context, start_line, end_line,
                          repeat_count, fingerprint, text_in_log, n)
ORDER BY 1;
SELECT setval(pg_get_serial_sequence('phase_events', 'id'), coalesce(max(id), 0) + 1, false) FROM phase_events;
CREATE INDEX phase_events_phase_idx ON phase_events (phase_id, line_no);
CREATE INDEX phase_events_unprinted_idx ON phase_events (id) WHERE fingerprint IS NULL;
DROP TABLE phase_event_lists;
DROP FUNCTION event_prints_valid(text[]);
DROP FUNCTION event_texts_valid(text[], integer);
