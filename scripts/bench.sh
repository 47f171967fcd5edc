#!/usr/bin/env bash
# bench.sh measures sign-ins per second of a real latchkey server, once on
# SQLite and once on PostgreSQL, with the load tool internal/loadtest.
#
# For each database it creates a fresh one (a temporary SQLite file; a
# throwaway PostgreSQL database latchkey_bench_PID, dropped afterwards), runs
# "latchkey init" with a known administrator password, starts
# "latchkey serve --ip-limits off" on 127.0.0.1:$BENCH_PORT, waits for /readyz,
# runs the load tool with -pid, stops the server with SIGTERM and prints the
# results.
#
# Environment: BENCH_CLIENTS (4,16,64), BENCH_DURATION (10s per level),
# BENCH_PORT (18080), BENCH_DBS ("sqlite postgres"), BENCH_JSON (set: JSON),
# LATCHKEY_TEST_POSTGRES (postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

clients=${BENCH_CLIENTS:-4,16,64}
duration=${BENCH_DURATION:-10s}
port=${BENCH_PORT:-18080}
dbs=${BENCH_DBS:-sqlite postgres}
pg_admin=${LATCHKEY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
addr=127.0.0.1:$port
bin=/tmp/latchkey-bench
loadtest=/tmp/latchkey-loadtest

# The settings of the environment must not leak into the server.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(LATCHKEY_[A-Z_]*\)=.*/\1/p' | grep -v '^LATCHKEY_TEST_POSTGRES$' || true)

work=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
server_pid=""
pg_db=""

cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n "$pg_db" ]]; then
		psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "==> building $bin and $loadtest"
go build -o "$bin" ./cmd/latchkey
go build -o "$loadtest" ./internal/loadtest

# A random password that meets any sensible policy.
password="Bench-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')-9"
printf '%s\n' "$password" >"$work/password"
chmod 600 "$work/password"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "bench: something already listens on $addr; set BENCH_PORT" >&2
	exit 1
fi

# postmaster_pid prints the PID of the local PostgreSQL server's main
# process (its postmaster.pid's first line), or nothing when it cannot be read.
postmaster_pid() {
	local dir pid
	dir=$(psql "$pg_admin" -Atq -c 'SHOW data_directory' 2>/dev/null) || return 0
	pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null) || return 0
	if [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/stat" ]]; then
		printf '%s' "$pid"
	fi
}

# bench_one NAME DB_URL [DB_PID]
bench_one() {
	local name=$1 db=$2 db_pid=${3:-} log="$work/$1-server.log" rc=0
	echo
	echo "==> $name: $db"
	"$bin" init --db "$db" --org default --admin-email bench@example.org \
		--admin-password-file "$work/password" >"$work/$name-init.log" 2>&1 || {
		echo "bench: latchkey init failed:" >&2
		cat "$work/$name-init.log" >&2
		return 1
	}
	"$bin" serve --db "$db" --addr "$addr" --ip-limits off >"$log" 2>&1 &
	server_pid=$!
	local json=() dbpid=()
	if [[ -n "${BENCH_JSON:-}" ]]; then json=(-json); fi
	if [[ -n "$db_pid" ]]; then dbpid=(-db-pid "$db_pid"); fi
	"$loadtest" -url "http://$addr" -org default -email bench@example.org \
		-password-file "$work/password" -clients "$clients" -duration "$duration" \
		-pid "$server_pid" "${dbpid[@]}" -wait 60s "${json[@]}" || rc=$?
	if ((rc == 0)); then
		echo "--> forgot-password on $name: 16 clients, known and unknown emails alternating"
		"$loadtest" -mode forgot -url "http://$addr" -org default -email bench@example.org \
			-clients 16 -duration "$duration" -hash-duration 0 -pid "$server_pid" "${json[@]}" || rc=$?
	fi
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	if ((rc != 0)); then
		echo "bench: the load test on $name failed (exit $rc); the server log ends:" >&2
		tail -n 40 "$log" >&2
		return "$rc"
	fi
}

failed=0
for db in $dbs; do
	case $db in
	sqlite)
		bench_one sqlite "sqlite:$work/bench.db" || failed=1
		;;
	postgres)
		if ! command -v psql >/dev/null 2>&1 || ! psql "$pg_admin" -q -c 'SELECT 1' >/dev/null 2>&1; then
			echo
			echo "*** PostgreSQL is not reachable at $pg_admin: PostgreSQL benchmark SKIPPED ***"
			echo "*** (run scripts/ensure-postgres.sh) ***"
			continue
		fi
		pg_db="latchkey_bench_$$"
		psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
		# The same server and options, another database name.
		pg_url=$(printf '%s' "$pg_admin" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$pg_db#")
		pm_pid=$(postmaster_pid)
		if [[ -z "$pm_pid" ]]; then
			echo "bench: cannot read the PostgreSQL server's PID; its CPU is not reported"
		fi
		bench_one postgres "$pg_url" "$pm_pid" || failed=1
		psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null || true
		pg_db=""
		;;
	*)
		echo "bench: unknown database $db in BENCH_DBS" >&2
		failed=1
		;;
	esac
done
exit "$failed"
