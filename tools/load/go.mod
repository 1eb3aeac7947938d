module github.com/spackmon/spackmon/tools/load

go 1.26.7

require github.com/spackmon/spackmon/pkg v0.0.0

replace github.com/spackmon/spackmon/pkg => ../../pkg
