#!/bin/sh
# Runs the load tool against a fresh `spackmon serve` (SQLite in a temporary data directory,
# auth on) and stops the server after: make load. Arguments go to the load tool.
# Usage: serve-and-load.sh SPACKMON_BINARY LOAD_BINARY [load flags...]
set -eu
spackmon=$1 load=$2
shift 2
addr=${LOAD_ADDR:-127.0.0.1:18080}
dir=$(mktemp -d)
pid=
stop() {
	if [ -n "$pid" ]; then
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" || true
	fi
	rm -rf "$dir"
}
trap stop EXIT
export SPACKMON_DATA_DIR="$dir" SPACKMON_ADDR="$addr" SPACKMON_GRPC_ADDR="${LOAD_GRPC_ADDR:-127.0.0.1:19090}" \
	SPACKMON_LOG_LEVEL=warn
SPACKMON_TOKEN=$("$spackmon" user add load | tail -n 1)
export SPACKMON_USER=load SPACKMON_TOKEN
"$spackmon" serve &
pid=$!
tries=0
until curl -fs "http://$addr/ms1/" >/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ]; then
		echo "serve did not answer on $addr" >&2
		exit 1
	fi
	sleep 0.1
done
"$load" -url "http://$addr" -pid "$pid" -data-dir "$dir" "$@"
