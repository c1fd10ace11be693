#!/usr/bin/env bash
# The load generator, in one command: builds the release server and the generator,
# then measures every scenario on PostgreSQL and on the SQLite default (see
# BENCHMARKS.md). Arguments pass through: --backend postgres|sqlite, --tickets N,
# --seconds S. PostgreSQL (with pgbench) is installed if missing, as test.sh does.
set -euo pipefail
cd "$(dirname "$0")"

if ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
  echo "bench.sh: installing postgresql for the benchmark" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

cargo build --release --locked -p switchboard -p switchboard-tests \
  --bin switchboard --bin switchboard-bench
exec target/release/switchboard-bench "$@"
