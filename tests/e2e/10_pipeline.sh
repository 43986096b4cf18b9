# Foundation: 10k events produced -> consumed -> exactly 10k rows; offsets in
# PostgreSQL equal the end offsets; a second pass adds nothing; Kafka's
# committed offsets mirror PostgreSQL's.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 3 --topic events:6 --topic events.dlq:1

produce events --generate 10000 --seed 7 2>"$T/producer.log"
rc=$?
[ $rc = 0 ] && pass "producer delivered 10000 generated events" || fail "producer" "exit $rc"
grep -q '"msg":"summary".*"delivered":"10000"' "$T/producer.log" && pass "producer summary on stderr" ||
  fail "producer summary" "$(tail -n 2 "$T/producer.log")"

eval "$(consumer_cmd) -t events --drain" 2>"$T/c1.log"
rc=$?
[ $rc = 0 ] && pass "consumer --drain exits 0" || fail "consumer --drain" "exit $rc"
grep -q '"msg":"exiting","reason":"drained' "$T/c1.log" && pass "exit reason logged" || fail "exit reason" "none"

rows=$(psql_q "SELECT count(*) FROM events")
distinct=$(psql_q "SELECT count(DISTINCT id) FROM events")
[ "$rows" = 10000 ] && [ "$distinct" = 10000 ] && pass "exactly 10000 rows" || fail "rows" "$rows rows, $distinct distinct"

# Tags and facts are views of the stored extractions (schema/009): there
# are some of each.
tags=$(psql_q "SELECT count(*) FROM event_tags")
facts=$(psql_q "SELECT count(*) FROM facts")
[ "$tags" -gt 5000 ] && [ "$facts" -gt 1000 ] && pass "tags and facts from the extractions" ||
  fail "tags and facts" "$tags tags, $facts facts"

# Each live story's counts are its events': docs, and its first and last
# publication times (the batch sends them as microsecond numbers).
off=$(psql_q "SELECT count(*) FROM clusters c JOIN (SELECT ec.cluster_id, count(*) AS n,
                min(e.published_at) AS lo, max(e.published_at) AS hi FROM event_clusters ec
                JOIN events e ON e.id = ec.event_id GROUP BY 1) x ON x.cluster_id = c.id
              WHERE c.merged_into IS NULL AND (c.docs <> x.n OR c.first_seen IS DISTINCT FROM x.lo
                OR c.last_seen IS DISTINCT FROM x.hi)")
live=$(psql_q "SELECT count(*) FROM clusters WHERE merged_into IS NULL")
[ "$off" = 0 ] && [ "$live" -gt 10 ] && pass "cluster docs and first/last seen match their events" ||
  fail "cluster counts" "$off of $live live clusters differ"

ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='shoal' AND topic='events'")
[ "$stored" = "$ends" ] && [ "$ends" = 10000 ] && pass "kafka_offsets equal end offsets" || fail "offsets" "stored $stored, end $ends"

committed=$(/usr/bin/python3 - "$BOOTSTRAP" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "shoal", "enable.auto.commit": False})
parts = [TopicPartition("events", p) for p in range(6)]
print(sum(tp.offset for tp in c.committed(parts, timeout=10) if tp.offset >= 0))
c.close()
PY
)
[ "$committed" = 10000 ] && pass "Kafka committed offsets mirror PostgreSQL" || fail "mirror" "committed $committed"

# The same messages again (a second consumer group would re-read; here the
# same group restarts): nothing new, nothing duplicated.
eval "$(consumer_cmd) -t events --drain" 2>"$T/c2.log"
rows2=$(psql_q "SELECT count(*) FROM events")
[ "$rows2" = 10000 ] && pass "restart adds no rows" || fail "restart" "$rows2 rows"

# Re-delivery of every message under another group id: rows stay unique.
GROUP=other
eval "$(consumer_cmd) -t events --drain" 2>"$T/c3.log"
GROUP=shoal
rows3=$(psql_q "SELECT count(*) FROM events")
[ "$rows3" = 10000 ] && pass "full re-delivery is idempotent" || fail "re-delivery" "$rows3 rows"
dups=$(grep -o '"duplicates":"[0-9]*"' "$T/c3.log" | tail -n 1)
[ "$dups" = '"duplicates":"10000"' ] && pass "re-delivered rows counted as duplicates" || fail "duplicates" "$dups"

grep -q '"level":"error"' "$T/c1.log" && fail "no errors logged" "$(grep '"level":"error"' "$T/c1.log" | head -n 3)" || pass "no errors logged"
exit $FAILED
