-- The index of install files by build, type and path goes: no plan read it (a list by type
-- reads the build's files in path order through the primary key, as every list does), yet
-- every file written went into it. On a 300-spec run of the load tool it held 6.2 KB per
-- spec.

-- +goose Up
DROP INDEX analysis_install_files_type_idx;

-- +goose Down
CREATE INDEX analysis_install_files_type_idx ON analysis_install_files (build_id, type, path);
