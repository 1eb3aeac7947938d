-- The builds search matches a full hash by its start only (a hash is quoted as Spack's
-- /abc1234), so the trigram index of specs no longer holds the hashes: 30 of each spec's 40
-- or so trigrams, which every spec written paid for in the index's writes and merges. A
-- NOCASE index finds a hash by its start instead, as LIKE would, ignoring ASCII case.

-- +goose Up
DROP TRIGGER specs_search_update;
DROP TRIGGER specs_search_delete;
DROP TRIGGER specs_search_insert;
DROP TABLE specs_search;

CREATE VIRTUAL TABLE specs_search USING fts5 (
    name, version,
    content = 'specs', content_rowid = 'id', columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);

-- +goose StatementBegin
CREATE TRIGGER specs_search_insert AFTER INSERT ON specs
BEGIN
    INSERT INTO specs_search (rowid, name, version) VALUES (NEW.id, NEW.name, NEW.version);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER specs_search_delete AFTER DELETE ON specs
BEGIN
    INSERT INTO specs_search (specs_search, rowid, name, version) VALUES ('delete', OLD.id, OLD.name, OLD.version);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER specs_search_update AFTER UPDATE OF id, name, version ON specs
BEGIN
    INSERT INTO specs_search (specs_search, rowid, name, version) VALUES ('delete', OLD.id, OLD.name, OLD.version);
    INSERT INTO specs_search (rowid, name, version) VALUES (NEW.id, NEW.name, NEW.version);
END;
-- +goose StatementEnd

INSERT INTO specs_search (specs_search) VALUES ('rebuild');

CREATE INDEX specs_full_hash_nocase_idx ON specs (full_hash COLLATE NOCASE);

-- +goose Down
DROP INDEX specs_full_hash_nocase_idx;
DROP TRIGGER specs_search_update;
DROP TRIGGER specs_search_delete;
DROP TRIGGER specs_search_insert;
DROP TABLE specs_search;

CREATE VIRTUAL TABLE specs_search USING fts5 (
    name, version, full_hash,
    content = 'specs', content_rowid = 'id', columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);

-- +goose StatementBegin
CREATE TRIGGER specs_search_insert AFTER INSERT ON specs
BEGIN
    INSERT INTO specs_search (rowid, name, version, full_hash)
    VALUES (NEW.id, NEW.name, NEW.version, NEW.full_hash);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER specs_search_delete AFTER DELETE ON specs
BEGIN
    INSERT INTO specs_search (specs_search, rowid, name, version, full_hash)
    VALUES ('delete', OLD.id, OLD.name, OLD.version, OLD.full_hash);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER specs_search_update AFTER UPDATE OF id, name, version, full_hash ON specs
BEGIN
    INSERT INTO specs_search (specs_search, rowid, name, version, full_hash)
    VALUES ('delete', OLD.id, OLD.name, OLD.version, OLD.full_hash);
    INSERT INTO specs_search (rowid, name, version, full_hash)
    VALUES (NEW.id, NEW.name, NEW.version, NEW.full_hash);
END;
-- +goose StatementEnd

INSERT INTO specs_search (specs_search) VALUES ('rebuild');
