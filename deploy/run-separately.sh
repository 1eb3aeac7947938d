#!/usr/bin/env bash
# Runs the roles as separate local processes on PostgreSQL, the way a deployment runs them:
#   SPACKMON_DATABASE_URL=postgres://postgres@127.0.0.1:5432/spackmon deploy/run-separately.sh
# Create a user in another terminal with the same SPACKMON_DATABASE_URL: bin/spackmon user add me
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SPACKMON_DATABASE_URL:?set SPACKMON_DATABASE_URL to a PostgreSQL URL}"
export SPACKMON_DATABASE_URL
# Every role names the same public URL: the token audience, and the base of the realm and of
# the JWKS the services fetch through the gateway.
export SPACKMON_PUBLIC_URL=http://127.0.0.1:8080
# The gateway shows this to the auth role, which then believes the client addresses it
# forwards (for the realm's failure limit).
SPACKMON_GATEWAY_SECRET=$(head -c 32 /dev/urandom | base64)
export SPACKMON_GATEWAY_SECRET
make build
./bin/spackmon migrate
trap 'kill 0' EXIT INT TERM
SPACKMON_GRPC_ADDR=127.0.0.1:9091 SPACKMON_DATA_DIR=./spackmon-data ./bin/spackmon auth &
SPACKMON_GRPC_ADDR=127.0.0.1:9090 ./bin/spackmon ingest &
SPACKMON_GRPC_ADDR=127.0.0.1:9092 SPACKMON_INGEST_ADDR=127.0.0.1:9090 ./bin/spackmon analysis &
SPACKMON_INGEST_ADDR=127.0.0.1:9090 SPACKMON_AUTH_ADDR=127.0.0.1:9091 SPACKMON_ANALYSIS_ADDR=127.0.0.1:9092 SPACKMON_ADDR=127.0.0.1:8080 ./bin/spackmon gateway &
wait
