#!/bin/sh
# make demo: the whole pipeline on embedded defaults. Starts the mock
# cluster and a throwaway PostgreSQL, produces the bundled corpus, consumes
# it with --drain, prints what was stored, and stops everything.
set -eu
cd "$(dirname "$0")/../.."
. tests/support/lib.sh
harness_init
CORPUS=${CORPUS:-tests/data/demo.jsonl}

echo "== starting a throwaway PostgreSQL and the mock Kafka cluster"
pg_start
mock_start --brokers 3 --topic events:6 --topic events.dlq:1
echo "   bootstrap: $BOOTSTRAP"

echo "== producing $(wc -l <"$CORPUS") events from $CORPUS"
produce events "$CORPUS" 2>"$T/producer.log" || { tail -n 5 "$T/producer.log"; exit 1; }

echo "== consuming with --drain (validate, extract, cluster, persist, commit)"
eval "$(consumer_cmd) -t events --drain" 2>"$T/consumer.log" || { tail -n 20 "$T/consumer.log"; exit 1; }

echo "== stored"
psql -X -q -d shoal -c "SELECT count(*) AS events, count(DISTINCT source) AS sources,
  min(published_at)::date AS first, max(published_at)::date AS last FROM events"
psql -X -q -d shoal -c "SELECT topic, partition, next_offset FROM kafka_offsets ORDER BY 1, 2"
if psql_q "SELECT to_regclass('trends')" | grep -q trends; then
  echo "== trends"
  "$BIN/shoal-consumer" trends --db "$DB"
fi
echo "== done; everything stopped"
