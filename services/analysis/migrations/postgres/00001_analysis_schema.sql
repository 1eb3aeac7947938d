-- The analysis service's tables: what `spack analyze` reported about an installed build.
-- Builds belong to the ingest service, possibly in another database, so build_id is a
-- plain number here with no foreign key; the service checks with ingest that a build
-- exists before it writes. The length checks mirror the store's limits, so that a value
-- that slips past the service is still refused with the column's name.
-- Paths use the "C" collation: listings are ordered and paginated by path, and byte order
-- is the one order SQLite (BINARY) and Go agree on.

-- +goose Up
CREATE TABLE analysis_config_args (
    build_id bigint PRIMARY KEY,
    args     text NOT NULL CHECK (length(args) <= 1048576)
);

-- A build's environment is replaced as a whole; rows are per build, never shared, so a
-- replacement cannot touch another build (upstream shared them and lost data).
CREATE TABLE analysis_environment_variables (
    build_id bigint NOT NULL,
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    value    text NOT NULL CHECK (length(value) <= 131072),
    PRIMARY KEY (build_id, name)
);

-- path is relative to the build's install prefix. A file named only by an attribute has
-- type '' and NULL metadata until a manifest names it.
CREATE TABLE analysis_install_files (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id   bigint NOT NULL,
    path       text COLLATE "C" NOT NULL CHECK (length(path) BETWEEN 1 AND 4096),
    type       text NOT NULL DEFAULT '' CHECK (length(type) <= 25),
    mode       bigint,
    owner      bigint,
    file_group bigint,
    hash       text NOT NULL DEFAULT '' CHECK (length(hash) <= 250),
    size       bigint,
    UNIQUE (build_id, path)
);
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);

-- An attribute names its install file by path ('' for one about the whole build), so that
-- it survives its file's row being rewritten by a later manifest.
CREATE TABLE analysis_attributes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id     bigint NOT NULL,
    path         text COLLATE "C" NOT NULL DEFAULT '' CHECK (length(path) <= 4096),
    analyzer     text NOT NULL CHECK (length(analyzer) BETWEEN 1 AND 150),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
    value        text CHECK (length(value) <= 67108864),
    binary_value bytea CHECK (length(binary_value) <= 67108864),
    json_value   text CHECK (length(json_value) <= 67108864),
    UNIQUE (build_id, path, analyzer, name)
);
CREATE INDEX analysis_attributes_analyzer_idx ON analysis_attributes (build_id, analyzer, name, id);

-- +goose Down
DROP TABLE analysis_attributes;
DROP TABLE analysis_install_files;
DROP TABLE analysis_environment_variables;
DROP TABLE analysis_config_args;
