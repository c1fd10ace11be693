#!/usr/bin/env bash
# Measures a CMDB bulk import of 10,000 items with 20,000 relationships, the same import
# again (everything unchanged), and impact analysis from a server at the bottom.
# Usage: tests/load/cmdb-import.sh [DATABASE_URL]   (default: a fresh SQLite file)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p switchboard -p switchboard-tests --bin switchboard --bin cmdb-fixture
work=$(mktemp -d)
export SWITCHBOARD_DATA_DIR=$work SWITCHBOARD_JWT_SECRET=load-test-secret-load-test-secret-0123
export DATABASE_URL=${1:-sqlite://$work/switchboard.db}
bin=target/release/switchboard
target/release/cmdb-fixture 20000 > "$work/cmdb.json"
$bin migrate
echo "first import:";  /usr/bin/time -f "  %e s wall, %M KB peak" $bin import cmdb "$work/cmdb.json"
echo "second import:"; /usr/bin/time -f "  %e s wall, %M KB peak" $bin import cmdb "$work/cmdb.json"

port=$((20000 + RANDOM % 20000))
SWITCHBOARD_BIND=127.0.0.1:$port $bin serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.2; done
token=$($bin token dev --role admin)
gql() {
  curl -s -o "$work/reply.json" -w "%{time_total}" "http://127.0.0.1:$port/graphql" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' -d "$1"
}
gql '{"query":"{ configurationItemByKey(externalKey: \"srv-7\") { id } }"}' > /dev/null
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["configurationItemByKey"]["id"])' "$work/reply.json")
query="{\"query\":\"{ node(id: \\\"$id\\\") { ... on ConfigurationItem { impact(maxDepth: 10) { affectedCount truncated affected { depth configurationItem { name } path { name } } businessServices { configurationItem { name } } } } } }\"}"
for run in 1 2 3 4 5; do
  seconds=$(gql "$query")
  echo "impact from srv-7, run $run: ${seconds}s"
done
python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["data"]["node"]["impact"]; print("  affected:", i["affectedCount"], "business services:", len(i["businessServices"]), "deepest:", max(a["depth"] for a in i["affected"]))' "$work/reply.json"
