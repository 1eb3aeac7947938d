module github.com/spackmon/spackmon/tools/load

go 1.26.7
