module github.com/spackmon/spackmon/gateway

go 1.26.7
