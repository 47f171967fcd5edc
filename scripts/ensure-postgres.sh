#!/usr/bin/env bash
# ensure-postgres.sh makes sure a PostgreSQL server answers on 127.0.0.1:5432,
# so that the PostgreSQL store suite runs (it connects with
# LATCHKEY_TEST_POSTGRES, default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
#
#   1. already accepting connections: done;
#   2. a Debian cluster exists (/etc/postgresql/*): start it with pg_ctlcluster;
#   3. only the server binaries exist: start a throwaway trust-auth cluster in
#      a temporary directory, run as the postgres user, on port 5432;
#   4. nothing installed: a loud notice (the suite will skip), or exit 1 under
#      CI=true, where every suite must run.
set -euo pipefail

host=127.0.0.1
port=5432

say() { echo "ensure-postgres: $*"; }

ready() { pg_isready -q -h "$host" -p "$port" >/dev/null 2>&1; }

wait_ready() {
	local i
	for i in $(seq 1 60); do
		if ready; then
			say "PostgreSQL is accepting connections on $host:$port"
			return 0
		fi
		sleep 0.5
	done
	say "PostgreSQL did not become ready on $host:$port within 30 s" >&2
	return 1
}

not_installed() {
	echo
	echo "******************************************************************************"
	echo "*** PostgreSQL is not installed: PostgreSQL store tests will be SKIPPED ***"
	echo "*** install it (apt-get install -y postgresql) or set LATCHKEY_TEST_POSTGRES ***"
	echo "******************************************************************************"
	echo
	if [[ "${CI:-}" == "true" ]]; then
		say "CI=true: refusing to continue without PostgreSQL" >&2
		exit 1
	fi
	exit 0
}

# trust_local lets the tests connect as postgres over 127.0.0.1 without a
# password, as they do on the machines Latchkey is developed on: a freshly
# installed Debian cluster asks for one (scram-sha-256) on TCP. Only as root,
# only when the connection is refused for authentication.
trust_local() {
	local version=$1 hba
	hba=/etc/postgresql/$version/main/pg_hba.conf
	if PGCONNECT_TIMEOUT=5 psql -w -h "$host" -p "$port" -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
		return 0
	fi
	if [[ $(id -u) -ne 0 || ! -w "$hba" ]]; then
		say "cannot sign in to PostgreSQL as postgres on $host without a password; set LATCHKEY_TEST_POSTGRES" >&2
		return 0
	fi
	say "allowing the postgres user on 127.0.0.1 and ::1 without a password (prepending to $hba)"
	{
		echo "host all postgres 127.0.0.1/32 trust # added by latchkey scripts/ensure-postgres.sh"
		echo "host all postgres ::1/128 trust # added by latchkey scripts/ensure-postgres.sh"
		cat "$hba"
	} >"$hba.latchkey" && cat "$hba.latchkey" >"$hba" && rm -f "$hba.latchkey"
	pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
}

if command -v pg_isready >/dev/null 2>&1 && ready; then
	say "PostgreSQL is already accepting connections on $host:$port"
	if compgen -G "/etc/postgresql/*/main/pg_hba.conf" >/dev/null; then
		trust_local "$(ls /etc/postgresql | sort -V | tail -n 1)"
	fi
	exit 0
fi

# pg_isready may be missing while the server binaries are there.
if ! command -v pg_isready >/dev/null 2>&1; then
	for d in /usr/lib/postgresql/*/bin; do
		if [[ -x "$d/pg_isready" ]]; then
			PATH="$d:$PATH"
		fi
	done
	if ! command -v pg_isready >/dev/null 2>&1; then
		not_installed
	fi
	if ready; then
		say "PostgreSQL is already accepting connections on $host:$port"
		exit 0
	fi
fi

# 2. A packaged Debian cluster.
if compgen -G "/etc/postgresql/*/main" >/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
	version=$(ls /etc/postgresql | sort -V | tail -n 1)
	say "starting the packaged cluster: pg_ctlcluster --skip-systemctl-redirect $version main start"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
	wait_ready
	trust_local "$version"
	exit 0
fi

# 3. Server binaries only: a throwaway cluster.
initdb_bin=""
for d in /usr/lib/postgresql/*/bin; do
	if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
		initdb_bin="$d"
	fi
done
if [[ -n "$initdb_bin" ]]; then
	if ! id postgres >/dev/null 2>&1; then
		say "creating the system user postgres"
		useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
	dir=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
	chown postgres: "$dir"
	say "starting a throwaway cluster in $dir ($initdb_bin), trust auth, port $port"
	runuser -u postgres -- "$initdb_bin/initdb" -D "$dir/data" -U postgres \
		--auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	runuser -u postgres -- "$initdb_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-c listen_addresses=$host -p $port -k $dir -c fsync=off" start || {
		cat "$dir/server.log" >&2
		exit 1
	}
	wait_ready
	say "stop it with: runuser -u postgres -- $initdb_bin/pg_ctl -D $dir/data stop"
	exit 0
fi

not_installed
