-- The index of install files by build, type and path goes. Only a list of one type of a
-- build's files read it, and no page asks for one; it was larger than the table's primary key
-- (a build's files arrive in path order, their types interleaved, so both ends of the index
-- split pages half full). Such a list now reads the build's files in path order through the
-- primary key until it has its page: at most all of the build's files. On a 300-spec run of
-- the load tool the index held 13.8 KB per spec.

-- +goose Up
DROP INDEX analysis_install_files_type_idx;

-- +goose Down
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);
