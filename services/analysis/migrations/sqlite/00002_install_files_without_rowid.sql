-- An install file is named by its build and path, so its table is stored in the b-tree of
-- that key (WITHOUT ROWID) and loses the id no read used: as a rowid table it kept each path
-- twice, in its rows and in the key's index. On a 200-spec run of the load tool the
-- analysis database went from 23.8 to 18 KB per spec.

-- +goose Up
CREATE TABLE analysis_install_files_copy (
    build_id   INTEGER NOT NULL,
    path       TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 4096),
    type       TEXT NOT NULL DEFAULT '' CHECK (length(type) <= 25),
    mode       INTEGER,
    owner      INTEGER,
    file_group INTEGER,
    hash       TEXT NOT NULL DEFAULT '' CHECK (length(hash) <= 250),
    size       INTEGER,
    PRIMARY KEY (build_id, path)
) STRICT, WITHOUT ROWID;
INSERT INTO analysis_install_files_copy
SELECT build_id, path, type, mode, owner, file_group, hash, size FROM analysis_install_files;
DROP TABLE analysis_install_files;
ALTER TABLE analysis_install_files_copy RENAME TO analysis_install_files;
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);

-- +goose Down
CREATE TABLE analysis_install_files_copy (
    id         INTEGER PRIMARY KEY,
    build_id   INTEGER NOT NULL,
    path       TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 4096),
    type       TEXT NOT NULL DEFAULT '' CHECK (length(type) <= 25),
    mode       INTEGER,
    owner      INTEGER,
    file_group INTEGER,
    hash       TEXT NOT NULL DEFAULT '' CHECK (length(hash) <= 250),
    size       INTEGER,
    UNIQUE (build_id, path)
) STRICT;
INSERT INTO analysis_install_files_copy (build_id, path, type, mode, owner, file_group, hash, size)
SELECT build_id, path, type, mode, owner, file_group, hash, size FROM analysis_install_files;
DROP TABLE analysis_install_files;
ALTER TABLE analysis_install_files_copy RENAME TO analysis_install_files;
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);
