module github.com/spackmon/spackmon/cmd/spackmon

go 1.26.7

require (
	github.com/spackmon/spackmon/gateway v0.0.0
	github.com/spackmon/spackmon/pkg v0.0.0
	github.com/spackmon/spackmon/proto v0.0.0
	github.com/spackmon/spackmon/services/ingest v0.0.0
)

replace github.com/spackmon/spackmon/pkg => ../../pkg

replace github.com/spackmon/spackmon/proto => ../../proto

replace github.com/spackmon/spackmon/services/ingest => ../../services/ingest

replace github.com/spackmon/spackmon/gateway => ../../gateway
