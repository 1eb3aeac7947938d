module github.com/spackmon/spackmon/gateway

go 1.26.7

require (
	github.com/spackmon/spackmon/pkg v0.0.0
	github.com/spackmon/spackmon/proto v0.0.0
)

replace github.com/spackmon/spackmon/pkg => ../pkg

replace github.com/spackmon/spackmon/proto => ../proto
