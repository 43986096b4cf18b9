# Foundation: kill -9 the consumer at 5 random points of a 20k-event run and
# restart it each time: exactly 20k rows, no duplicates, and kafka_offsets
# equal to the end offsets.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
N=${N:-20000}
KILLS=${KILLS:-5}
pg_start
mock_start --brokers 3 --topic events:6 --topic events.dlq:1
produce events --generate "$N" --seed 11 2>"$T/producer.log" || fail "produce" "$(tail -n 3 "$T/producer.log")"

# Each round: start, wait until it makes progress, then kill -9 after a
# random delay, so the kill lands anywhere in a batch's life (mid-COPY,
# before COMMIT, between COMMIT and the Kafka mirror commit...).
kills=0
last=0
round=0
while [ $round -lt "$KILLS" ]; do
  round=$((round + 1))
  eval "exec $(consumer_cmd) -t events --set batch.size=100" 2>>"$T/consumer.log" &
  pid=$!
  harness_track $pid
  wait_rows_above "$last" 30 $pid
  rand_sleep 390
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  last=$(psql_q 'SELECT count(*) FROM events')
  echo "killed at $last rows"
done
[ $kills = "$KILLS" ] && [ "$last" -lt "$N" ] && pass "consumer killed -9 $kills times mid-run" ||
  fail "kills" "$kills kills, last at $last of $N rows"

eval "$(consumer_cmd) -t events --drain" 2>>"$T/consumer.log"
rc=$?
[ $rc = 0 ] && pass "restarted consumer drains and exits 0" || fail "final drain" "exit $rc"
rows=$(psql_q "SELECT count(*) FROM events")
distinct=$(psql_q "SELECT count(DISTINCT id) FROM events")
[ "$rows" = "$N" ] && [ "$distinct" = "$N" ] && pass "exactly $N rows, no duplicates" || fail "rows" "$rows rows, $distinct distinct"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE topic='events'")
[ "$stored" = "$ends" ] && pass "kafka_offsets equal end offsets ($ends)" || fail "offsets" "stored $stored, end $ends"
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dead" = 0 ] && pass "nothing dead-lettered" || fail "dead letters" "$dead"
exit $FAILED
