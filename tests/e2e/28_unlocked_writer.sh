# A writer that does not take the clustering lock stores one of the events
# while a batch holding it is being written. The batch inserts its new rows
# without a conflict check (they were looked up under the lock, which every
# consumer holds), so its insert fails on that row's key: the batch must be
# retried as a transient failure, find the row stored, and store the rest,
# with nothing dead-lettered, the outside row kept and each event counted in
# its cluster once.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start 1
produce events --generate 200 --seed 7 2>"$T/p.log" || fail "produce" "$(tail -n 2 "$T/p.log")"
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/m.log" || fail "migrate" "$(tail -n 2 "$T/m.log")"
X=gen-7-150

# The gate: a session holds advisory lock 4242 until the test ends it. The
# outside writer inserts X, then waits for the gate before it commits.
gate_hold 4242 || fail "gate" "not held"
gate_behind 4242 "$T/outside.log" <<SQL || fail "outside writer" "not waiting at the gate"
INSERT INTO events (id, kind, source, title, kafka_topic, kafka_partition, kafka_offset)
VALUES ('$X', 'article', 'outside', 'stored by a writer without the lock', 'elsewhere', 0, 0);
SQL

# The batch with X waits for the outside transaction: its insert met X's key.
consumer_through_gate 90 "$T/c.log" "the consumer's insert waits on the outside writer's row" -t events --drain
rc=$?
[ $rc = 0 ] && pass "consumer drained" || fail "consumer" "exit $rc: $(tail -n 3 "$T/c.log")"

grep -q '"msg":"batch not persisted; pausing and retrying".*duplicate key' "$T/c.log" &&
  pass "the key conflict was a transient failure, retried" || fail "retry" "no retry logged"
[ "$(psql_q "SELECT count(*) || ':' || count(*) FILTER (WHERE source = 'outside') FROM events")" = "200:1" ] &&
  pass "200 events, the outside row kept" || fail "rows" "$(psql_q "SELECT count(*) FROM events")"
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 0 ] && pass "nothing dead-lettered" ||
  fail "dead letters" "$(psql_q "SELECT error_message FROM dead_letters LIMIT 2")"
counted=$(psql_q "SELECT sum(docs) FROM clusters WHERE merged_into IS NULL")
clustered=$(psql_q "SELECT count(*) FROM events WHERE cluster_id IS NOT NULL")
[ "$counted" = 199 ] && [ "$clustered" = 199 ] && pass "each stored event counted in its cluster once" ||
  fail "cluster counts" "docs $counted, clustered rows $clustered"
[ "$(psql_q "SELECT sum(next_offset) FROM kafka_offsets")" = 200 ] && pass "offsets at the end" ||
  fail "offsets" "$(psql_q "SELECT sum(next_offset) FROM kafka_offsets")"
exit $FAILED
