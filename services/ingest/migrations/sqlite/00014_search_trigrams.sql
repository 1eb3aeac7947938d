-- The builds search (q) finds the specs, hosts and CDash builds whose text holds the
-- searched text through trigram indexes, as PostgreSQL does with pg_trgm (its migration
-- 00013): LIKE read all 36,645 specs of a 100,000-build store for every search. Each index
-- reads its text from its table (external content), so it holds only the trigrams; the
-- triggers keep it in step with every writer. Compilers and tags, a handful of rows, keep
-- their LIKE.
--
-- case_sensitive 0 folds more than LIKE does (all of Unicode, LIKE only ASCII), so the
-- search checks each row the index found with LIKE: the index narrows, LIKE decides.
-- Texts under 3 characters have no trigram and are searched with LIKE alone.

-- +goose Up
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

CREATE VIRTUAL TABLE build_environments_search USING fts5 (
    hostname,
    content = 'build_environments', content_rowid = 'id', columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);

-- +goose StatementBegin
CREATE TRIGGER build_environments_search_insert AFTER INSERT ON build_environments
BEGIN
    INSERT INTO build_environments_search (rowid, hostname) VALUES (NEW.id, NEW.hostname);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER build_environments_search_delete AFTER DELETE ON build_environments
BEGIN
    INSERT INTO build_environments_search (build_environments_search, rowid, hostname)
    VALUES ('delete', OLD.id, OLD.hostname);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER build_environments_search_update AFTER UPDATE OF id, hostname ON build_environments
BEGIN
    INSERT INTO build_environments_search (build_environments_search, rowid, hostname)
    VALUES ('delete', OLD.id, OLD.hostname);
    INSERT INTO build_environments_search (rowid, hostname) VALUES (NEW.id, NEW.hostname);
END;
-- +goose StatementEnd

INSERT INTO build_environments_search (build_environments_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE cdash_builds_search USING fts5 (
    build_name, project,
    content = 'cdash_builds', content_rowid = 'build_id', columnsize = 0,
    tokenize = 'trigram case_sensitive 0'
);

-- +goose StatementBegin
CREATE TRIGGER cdash_builds_search_insert AFTER INSERT ON cdash_builds
BEGIN
    INSERT INTO cdash_builds_search (rowid, build_name, project)
    VALUES (NEW.build_id, NEW.build_name, NEW.project);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cdash_builds_search_delete AFTER DELETE ON cdash_builds
BEGIN
    INSERT INTO cdash_builds_search (cdash_builds_search, rowid, build_name, project)
    VALUES ('delete', OLD.build_id, OLD.build_name, OLD.project);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cdash_builds_search_update AFTER UPDATE OF build_id, build_name, project ON cdash_builds
BEGIN
    INSERT INTO cdash_builds_search (cdash_builds_search, rowid, build_name, project)
    VALUES ('delete', OLD.build_id, OLD.build_name, OLD.project);
    INSERT INTO cdash_builds_search (rowid, build_name, project)
    VALUES (NEW.build_id, NEW.build_name, NEW.project);
END;
-- +goose StatementEnd

INSERT INTO cdash_builds_search (cdash_builds_search) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER cdash_builds_search_update;
DROP TRIGGER cdash_builds_search_delete;
DROP TRIGGER cdash_builds_search_insert;
DROP TABLE cdash_builds_search;
DROP TRIGGER build_environments_search_update;
DROP TRIGGER build_environments_search_delete;
DROP TRIGGER build_environments_search_insert;
DROP TABLE build_environments_search;
DROP TRIGGER specs_search_update;
DROP TRIGGER specs_search_delete;
DROP TRIGGER specs_search_insert;
DROP TABLE specs_search;
