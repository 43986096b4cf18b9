# The eager rebalance protocol (partition.assignment.strategy=range instead
# of cooperative-sticky): two members, kill -9 one mid-run; the survivor is
# given the whole assignment (eager: revoke all, assign all) and finishes
# the work with zero loss and zero duplicates. A reduced 15_scaleout.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
N=${N:-6000}
pg_start
mock_start --brokers 3 --topic events:6 --topic events.dlq:1
produce events --generate "$N" --seed 19 2>"$T/p.log" || fail "produce" "events"
"$BIN/shoal-consumer" migrate --db "$DB" 2>/dev/null
rows() { psql_q "SELECT count(*) FROM events"; }
wait_rows() { # target seconds
  i=0
  while [ "$(rows)" -lt "$1" ]; do i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1; done
}
EAGER="-X partition.assignment.strategy=range --set batch.size=100"
GROUP=g-eager
consumer_bg "$T/k1.log" -t events $EAGER; K1=$CONSUMER_PID
consumer_bg "$T/k2.log" -t events $EAGER; K2=$CONSUMER_PID
wait_for 60 grep -q '"msg":"partition assigned"' "$T/k2.log" && wait_for 30 grep -q '"msg":"partition assigned"' "$T/k1.log" &&
  pass "eager: both members get partitions" || fail "assignment" "a member got nothing"
wait_rows $((N / 10)) 120
kill -9 "$K2"
at=$(wc -l <"$T/k1.log")
echo "killed member 2 at $(rows) rows"
wait_rows "$N" 240 && pass "eager: the survivor finishes the work after a kill -9" || fail "takeover" "$(rows) of $N rows"
# Eager: after the kill the survivor gives up what it has (revoked, not
# lost) and is handed all six partitions at once; cooperative would only add
# the dead member's. The rebalance comes when the dead member's session times
# out, which can be after every row is in: the dead member may have finished
# its partitions before the kill.
reassigned() {
  tail -n +"$((at + 1))" "$T/k1.log" >"$T/k1.after"
  revoked=$(grep -c '"msg":"partition revoked"' "$T/k1.after")
  after=$(grep '"msg":"partition assigned"' "$T/k1.after" | grep -o '"partition":"[0-9]*"' | sort -u | wc -l)
  [ "$revoked" -gt 0 ] && [ "$after" = 6 ]
}
wait_for 30 reassigned && pass "eager: the survivor revoked its partitions and was given the whole assignment" ||
  fail "eager assignment" "$revoked revoked, $after assigned"
kill -TERM "$K1"; wait "$K1"
rc=$?
[ $rc = 0 ] && pass "eager: the survivor exits 0 on SIGTERM" || fail "survivor exit" "$rc"
r=$(rows); d=$(psql_q "SELECT count(DISTINCT id) FROM events")
[ "$r" = "$N" ] && [ "$d" = "$N" ] && pass "eager, kill -9 of a member: $N rows, no loss, no duplicates" ||
  fail "rows after kill" "$r rows, $d distinct"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='g-eager'")
[ "$stored" = "$ends" ] && pass "eager: offsets equal end offsets" || fail "offsets" "$stored vs $ends"
exit $FAILED
