-- The analysis service's tables, as in the PostgreSQL migrations. STRICT tables keep
-- column types honest; TEXT compares bytewise (BINARY), the order the PostgreSQL schema
-- gets with COLLATE "C".

-- +goose Up
CREATE TABLE analysis_config_args (
    build_id INTEGER PRIMARY KEY,
    args     TEXT NOT NULL CHECK (length(args) <= 1048576)
) STRICT;

CREATE TABLE analysis_environment_variables (
    build_id INTEGER NOT NULL,
    name     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    value    TEXT NOT NULL CHECK (length(value) <= 131072),
    PRIMARY KEY (build_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE analysis_install_files (
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
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);

CREATE TABLE analysis_attributes (
    id           INTEGER PRIMARY KEY,
    build_id     INTEGER NOT NULL,
    path         TEXT NOT NULL DEFAULT '' CHECK (length(path) <= 4096),
    analyzer     TEXT NOT NULL CHECK (length(analyzer) BETWEEN 1 AND 150),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
    value        TEXT CHECK (length(value) <= 67108864),
    binary_value BLOB CHECK (length(binary_value) <= 67108864),
    json_value   TEXT CHECK (length(json_value) <= 67108864),
    UNIQUE (build_id, path, analyzer, name)
) STRICT;
CREATE INDEX analysis_attributes_analyzer_idx ON analysis_attributes (build_id, analyzer, name, id);

-- +goose Down
DROP TABLE analysis_attributes;
DROP TABLE analysis_install_files;
DROP TABLE analysis_environment_variables;
DROP TABLE analysis_config_args;
