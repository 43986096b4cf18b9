# Foundation: SIGTERM mid-run exits 0 within shutdown.timeout.ms and a
# restart finishes the job; with the database down a SIGTERM still exits in
# bounds; a second signal exits at once with a logged reason (code 5).
set -u
. tests/support/lib.sh
harness_init
FAILED=0
N=20000
TIMEOUT_MS=8000
pg_start
mock_start --brokers 3 --topic events:6 --topic events.dlq:1
produce events --generate $N --seed 12 2>"$T/producer.log" || fail "produce" "failed"

consumer_bg "$T/c1.log" -t events --set batch.size=100 --set shutdown.timeout.ms=$TIMEOUT_MS
wait_for 30 sh -c "[ \$(psql -X -t -A -d shoal -c 'SELECT count(*) FROM events') -gt 0 ]"
t0=$(now_ms)
kill -TERM $CONSUMER_PID
wait $CONSUMER_PID
rc=$?
el=$(( $(now_ms) - t0 ))
rows=$(psql_q "SELECT count(*) FROM events")
echo "SIGTERM at $rows rows; exit $rc after ${el} ms"
[ $rc = 0 ] && pass "SIGTERM exits 0" || fail "SIGTERM exit code" "$rc"
[ $el -lt $TIMEOUT_MS ] && pass "SIGTERM exit within shutdown.timeout.ms (${el} ms)" || fail "SIGTERM time" "${el} ms"
[ "$rows" -lt $N ] && pass "SIGTERM landed mid-run" || fail "mid-run" "all $rows rows already done"
grep -q '"msg":"shutdown requested; draining"' "$T/c1.log" && grep -q '"msg":"exiting","reason":"shutdown signal","exit_code":"0"' "$T/c1.log" &&
  pass "shutdown reason logged" || fail "shutdown log" "$(tail -n 3 "$T/c1.log")"
stored=$(psql_q "SELECT coalesce(sum(next_offset),0) FROM kafka_offsets")
[ "$stored" = "$rows" ] && pass "offsets committed for exactly what was persisted" || fail "offsets at shutdown" "stored $stored rows $rows"

eval "$(consumer_cmd) -t events --drain" 2>"$T/c2.log"
rows=$(psql_q "SELECT count(*) FROM events")
[ "$rows" = $N ] && pass "restart finishes the job ($N rows)" || fail "restart" "$rows rows"

# Database down with a batch pending: it cannot be made durable. SIGTERM
# must still exit within the timeout, with nothing dead-lettered and a
# reason logged.
outage_consumer() {
  consumer_bg "$1" -t events --set shutdown.timeout.ms=$2
  wait_for 30 grep -q '"msg":"partition assigned"' "$1"
  sleep 1
  pg_down
  produce events --generate 300 --seed $3 2>>"$T/producer.log"
  wait_for 30 grep -q 'batch not persisted; pausing and retrying' "$1"
}
outage_consumer "$T/c3.log" $TIMEOUT_MS 13 &&
  pass "database outage is retried, not dead-lettered" || fail "outage retry" "$(tail -n 3 "$T/c3.log")"
t0=$(now_ms)
kill -TERM $CONSUMER_PID
wait $CONSUMER_PID
rc=$?
el=$(( $(now_ms) - t0 ))
[ $rc = 0 ] && [ $el -lt $TIMEOUT_MS ] && pass "SIGTERM with the database down exits 0 in ${el} ms" || fail "SIGTERM db down" "exit $rc after $el ms"
grep -q 'shutting down with unpersisted messages; they will be re-delivered' "$T/c3.log" && pass "unpersisted work logged" || fail "unpersisted log" "missing"

# Second signal during a shutdown that cannot finish: exits at once (code 5).
pg_up
outage_consumer "$T/c4.log" 60000 14
kill -TERM $CONSUMER_PID
sleep 0.5
t0=$(now_ms)
kill -TERM $CONSUMER_PID
wait $CONSUMER_PID
rc=$?
el=$(( $(now_ms) - t0 ))
[ $rc = 5 ] && [ $el -lt 1000 ] && pass "second signal exits at once with code 5" || fail "second signal" "exit $rc after $el ms"
grep -q 'second signal: exiting at once' "$T/c4.log" && pass "second-signal reason logged" || fail "second-signal log" "missing"

pg_up
eval "$(consumer_cmd) -t events --drain" 2>"$T/c5.log"
rows=$(psql_q "SELECT count(*) FROM events")
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$rows" = $((N + 600)) ] && [ "$dead" = 0 ] && pass "after the outage everything is stored, nothing dead-lettered" || fail "after outage" "$rows rows, $dead dead"
exit $FAILED
