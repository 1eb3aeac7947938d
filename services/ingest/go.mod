module github.com/spackmon/spackmon/services/ingest

go 1.26.7

require github.com/spackmon/spackmon/pkg v0.0.0

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/spackmon/spackmon/proto v0.0.0
)

replace github.com/spackmon/spackmon/pkg => ../../pkg

replace github.com/spackmon/spackmon/proto => ../../proto
