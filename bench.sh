#!/usr/bin/env bash
# The load generator, in one command: builds the release server and the generator,
# then measures every scenario on PostgreSQL and on the SQLite default (see
# BENCHMARKS.md). Arguments pass through: --backend postgres|sqlite, --tickets N,
# --seconds S; --live runs the live scenarios instead (fan-out to --subscribers
# 1000,5000,10000 sockets, --rounds 5 tickets at each size, with the machine's raw-TCP
# floor beside it, and across two replicas). PostgreSQL (with pgbench) and
# Redis are installed if missing, as test.sh does.
set -euo pipefail
cd "$(dirname "$0")"

if ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
  echo "bench.sh: installing postgresql for the benchmark" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

if ! command -v redis-server >/dev/null; then
  echo "bench.sh: installing redis-server for the live scenarios" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

# Ten thousand sockets on each side: the generator's and the server's (which inherits it).
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release --locked -p switchboard -p switchboard-tests \
  --bin switchboard --bin switchboard-bench
exec target/release/switchboard-bench "$@"
