# Poison-row isolation: rows the database rejects (a data error confined to
# one row) are found with savepoints and dead-lettered with stage=persist;
# every good row of the same batches is stored; nothing blocks a partition.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:2 --topic events.dlq:1
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/migrate.log" || fail "migrate" "$(tail -n 2 "$T/migrate.log")"
pg_reject_poison_rows
/usr/bin/python3 - >"$T/events.jsonl" <<'PY'
import json
for i in range(1000):
    title = f"Story {i} about markets"
    if i in (3, 250, 251, 600, 999):
        title = f"POISON-ROW {i}"
    print(json.dumps({"id": f"p-{i}", "source": f"src{i % 7}.example", "title": title,
                      "text": "Body text for the event.", "published_at": "2024-10-02T10:00:00Z"}))
PY
produce events "$T/events.jsonl" 2>"$T/producer.log" || fail "produce" "$(tail -n 2 "$T/producer.log")"
eval "$(consumer_cmd) -t events --drain --set batch.size=200" 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && pass "consumer drains with poison rows" || fail "consumer" "exit $rc"
rows=$(psql_q "SELECT count(*) FROM events")
[ "$rows" = 995 ] && pass "all 995 good rows stored" || fail "good rows" "$rows"
dead=$(psql_q "SELECT count(*) FROM dead_letters WHERE error_stage = 'persist' AND error_class = 'db_rejected'")
[ "$dead" = 5 ] && pass "5 poison rows dead-lettered at stage persist" || fail "dead rows" "$dead"
msg=$(psql_q "SELECT error_message FROM dead_letters LIMIT 1")
case "$msg" in *23514*"title rejected by policy"*) pass "SQLSTATE and message recorded" ;; *) fail "message" "$msg" ;; esac
kcat -b "$BOOTSTRAP" -C -t events.dlq -e -J -q >"$T/dlq.json" 2>/dev/null
n=$(grep -c '"shoal.error.stage","persist"' "$T/dlq.json")
keys=$(grep -o '"key":"[^"]*"' "$T/dlq.json" | sort | tr '\n' ' ')
[ "$n" = 5 ] && [ "$keys" = '"key":"p-250" "key":"p-251" "key":"p-3" "key":"p-600" "key":"p-999" ' ] &&
  pass "exactly the poison rows are in the DLQ" || fail "dlq" "$n letters: $keys"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets")
[ "$stored" = "$ends" ] && pass "offsets reach the end" || fail "offsets" "$stored vs $ends"
exit $FAILED
