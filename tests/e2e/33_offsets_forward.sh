# A stored offset never moves back. Another owner of the partition stores
# offset 250 while this consumer's batch, which ends at 200, is being
# written: the batch's offset write waits for it and keeps 250. The next
# consumer of the group resumes there, so the messages the other owner
# handled (200-249) are not stored again.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start 1
produce events --generate 200 --seed 11 2>"$T/p.log" || fail "produce" "$(tail -n 2 "$T/p.log")"
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/m.log" || fail "migrate" "$(tail -n 2 "$T/m.log")"

# The gate: a session holds advisory lock 4343 until the test ends it. The
# other owner stores offset 250, then waits for the gate before it commits.
gate_hold 4343 || fail "gate" "not held"
gate_behind 4343 "$T/owner.log" <<SQL || fail "other owner" "not waiting at the gate"
INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) VALUES ('shoal', 'events', 0, 250);
SQL

consumer_through_gate 60 "$T/c1.log" "the batch's offset write waits for the other owner's" -t events --drain
rc=$?
[ $rc = 0 ] && pass "consumer drained" || fail "consumer" "exit $rc: $(tail -n 3 "$T/c1.log")"
[ "$(psql_q "SELECT count(*) FROM events")" = 200 ] && pass "the batch's 200 events stored" ||
  fail "rows" "$(psql_q "SELECT count(*) FROM events")"
got=$(psql_q "SELECT next_offset FROM kafka_offsets WHERE consumer_group = 'shoal' AND topic = 'events' AND partition = 0")
[ "$got" = 250 ] && pass "the stored offset kept 250, not the batch's 200" || fail "offset" "stored $got"

# 60 more messages (offsets 200-259): the next consumer starts at 250.
produce events --generate 60 --seed 12 2>"$T/p2.log" ||
  fail "produce more" "$(tail -n 2 "$T/p2.log")"
eval "$(consumer_cmd) -t events --drain" 2>"$T/c2.log" || fail "second consumer" "$(tail -n 3 "$T/c2.log")"
[ "$(psql_q "SELECT count(*) || ':' || min(kafka_offset) FROM events WHERE kafka_offset >= 200")" = "10:250" ] &&
  pass "the next consumer resumed at 250: 10 more events" ||
  fail "resume" "$(psql_q "SELECT count(*), min(kafka_offset) FROM events WHERE kafka_offset >= 200")"
[ "$(psql_q "SELECT next_offset FROM kafka_offsets WHERE consumer_group = 'shoal' AND topic = 'events'")" = 260 ] &&
  pass "offset at the end" || fail "end offset" "$(psql_q "SELECT next_offset FROM kafka_offsets")"
exit $FAILED
