module github.com/spackmon/spackmon/services/ingest

go 1.26.7
