# spackmon: `make run` starts the service on SQLite, `make test` runs every test.
GO       ?= go
# The Go release everything here is built and tested with; the go command fetches it once
# from the module proxy (about 76 MB). Its encoding/json decodes with the v2 implementation,
# which halves what parsing request bodies costs the server (docs/performance.md). The code
# itself still builds with Go 1.26.
export GOTOOLCHAIN := go1.27.3
PKGS     := github.com/spackmon/spackmon/...
TOOLS    := $(CURDIR)/bin/tools
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/spackmon/spackmon/pkg/version.Version=$(VERSION)
# PostgreSQL for the tests: the machine's server when one answers, else pkg/pgtest starts a
# throw-away cluster with initdb.
export SPACKMON_TEST_DATABASE_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable')

.PHONY: build run test test-short fuzz generate check-generate lint bench load tools clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/spackmon ./cmd/spackmon

run: build
	./bin/spackmon serve

test: build
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Every test but the slow ones, which skip under -short: those that start the real binary's
# processes, the conformance suite, and the memory and throughput measures.
test-short:
	$(GO) test -short -count=1 -timeout 6m $(PKGS)

# A short run of every fuzz target (go test runs one target at a time). The budget is a count
# of executions: a duration races Go's fuzz coordinator at its deadline on a busy machine
# (golang/go#75804, seen with 1.26) and fails without any failing input.
FUZZTIME ?= 20000x
fuzz:
	@set -e; for target in FuzzParseBasic FuzzChallenge FuzzParseChallenge; do \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./pkg/authn; done
	$(GO) test -run '^$$' -fuzz '^FuzzLogText$$' -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz '^FuzzPhaseBody$$' -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/logparse
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./services/ingest/cdash
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./services/ingest/junit

# Realistic Spack traffic against a fresh `serve` (SQLite in a temporary directory, auth on):
# a sweep of 1, 16 and 64 concurrent clients, a table per endpoint and a SUMMARY line with the
# server's CPU per spec, peak RSS and bytes on disk per spec (tools/load).
LOAD_FLAGS ?= -clients 1,16,64 -duration 30s
load: build
	$(GO) build -o bin/load ./tools/load
	tools/load/serve-and-load.sh bin/spackmon bin/load $(LOAD_FLAGS)

# The plugins are Go tools pinned in proto/go.mod, built locally: generation needs no network.
tools:
	cd proto && $(GO) build -o $(TOOLS)/ github.com/bufbuild/buf/cmd/buf \
		google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

generate: tools
	PATH=$(TOOLS):$$PATH buf lint
	PATH=$(TOOLS):$$PATH buf generate

# Fails when the committed generated code is not what the protos produce.
check-generate: generate
	@git diff --exit-code -- proto gateway/openapi || (echo "generated code is out of date: run make generate" >&2; exit 1)
	@test -z "$$(git status --porcelain -- proto gateway/openapi)" || (echo "generated files are not committed" >&2; exit 1)

lint:
	@out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go')); test -z "$$out" || (echo "gofmt needed:"; echo "$$out"; exit 1)
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

clean:
	rm -rf bin
