#!/usr/bin/env bash
# Measures the SLA engine with a million open clocks, of which a few thousand are due.
# Usage: tests/load/sla-million-clocks.sh postgres://user@127.0.0.1:PORT/empty_database
# It migrates the database, seeds 500,000 tickets with two clocks each (due over the
# next 30 days), makes DUE of them due now, starts the server, and reports how long the
# engine's due-query takes and how long until every due alert was sent.
set -euo pipefail
url=${1:?give a postgres:// URL of an empty database}
due=${DUE:-2000}
cd "$(dirname "$0")/../.."
cargo build -q --release -p switchboard
bin=target/release/switchboard
export DATABASE_URL=$url SWITCHBOARD_DATA_DIR=$(mktemp -d) SWITCHBOARD_JWT_SECRET=load-test-secret-load-test-secret-0123
$bin migrate
psql -q "$url" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (subject, name, roles, groups, created_at, updated_at, available)
  VALUES ('load', 'Load', '["agent"]', '[]', now(), now(), true);
INSERT INTO sla_policies (position, name, active, response_minutes, resolution_minutes, warn_percents, pause_reasons, created_at)
  VALUES (1, 'Load', true, 60, 43200, '[]', '[]', now());
INSERT INTO tickets (number, kind, status, title, description, impact, urgency, priority, requester_id, channel,
                     escalation_level, search_text, internal_search_text, created_at, updated_at, version)
  SELECT 'LOAD' || g, 'INCIDENT', 'NEW', 't', '', 'LOW', 'LOW', 4, 1, 'API', 0, '', '', now(), now(), 1
  FROM generate_series(1, 500000) g;
INSERT INTO sla_clocks (ticket_id, metric, policy_id, target_seconds, warn_percents, state, elapsed_ms,
                        running_since, due_at, next_alert_at, alerts_sent, created_at)
  SELECT t.id, m.metric, 1, 2592000, '[]', 'RUNNING', 0, now(),
         now() + (random() * interval '30 days') + interval '1 hour',
         now() + (random() * interval '30 days') + interval '1 hour', 0, now()
  FROM tickets t CROSS JOIN (VALUES ('RESPONSE'), ('RESOLUTION')) m(metric);
-- Make some due: their instant is in the past, as after an outage.
UPDATE sla_clocks SET running_since = now() - interval '31 days', next_alert_at = now() - interval '1 minute'
  WHERE id IN (SELECT id FROM sla_clocks ORDER BY random() LIMIT $due);
ANALYZE;
SQL
echo "open clocks: $(psql -qAt "$url" -c "SELECT count(*) FROM sla_clocks WHERE state = 'RUNNING'"), due now: $due"
echo "the engine's due query (first batch of 500):"
psql -qAt "$url" -c "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM sla_clocks WHERE next_alert_at <= now() ORDER BY next_alert_at LIMIT 500" | sed 's/^/  /'
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s.%N)
SWITCHBOARD_BIND=127.0.0.1:$port RUST_LOG=warn $bin serve &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
while [ "$(psql -qAt "$url" -c "SELECT count(*) FROM events WHERE topic = 'sla.breached'")" -lt "$due" ]; do sleep 0.1; done
end=$(date +%s.%N)
echo "all $due due breaches sent $(python3 -c "print(round($end - $start, 2))") s after the server started (start-up included)"
echo "each sent once: $(psql -qAt "$url" -c "SELECT count(*) = count(DISTINCT entity_id || (payload->>'metric')) FROM events WHERE topic = 'sla.breached'")"
