module github.com/spackmon/spackmon/cmd/spackmon

go 1.26.7
