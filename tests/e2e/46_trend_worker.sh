# Trends are recomputed on a thread of their own: a recomputation that
# cannot finish (here the trends table is locked by another session) holds
# up neither the events behind it nor a shutdown, which cancels it.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/migrate.log" || fail "migrate" "$(tail -n 2 "$T/migrate.log")"
produce events --generate 300 --seed 11 2>>"$T/producer.log" || fail "produce" "$(tail -n 2 "$T/producer.log")"
# A statement timeout longer than the test: only the worker's cancel ends
# the blocked statement.
consumer_bg "$T/c.log" -t events --set trend.refresh.ms=1000 --set db.statement.timeout.ms=120000
wait_for 60 sh -c "grep -q '\"msg\":\"trends updated\"' '$T/c.log'" &&
  pass "trends recomputed while consuming" || fail "trends" "none computed: $(tail -n 3 "$T/c.log")"

# Another session holds the trends table until it is killed.
psql -X -q -d shoal -c "BEGIN" -c "LOCK TABLE trends IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(600)" \
  >/dev/null 2>&1 &
LOCKER=$!
harness_track $LOCKER
blocked() {
  [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shoal-consumer'
               AND wait_event_type = 'Lock' AND query LIKE '%trends%'")" -ge 1 ]
}
# New events make the next recomputation due; it blocks on the lock.
produce events --generate 300 --seed 12 2>>"$T/producer.log" || fail "produce" "$(tail -n 2 "$T/producer.log")"
if wait_for 30 blocked; then
  pass "a recomputation is blocked on the locked trends table"
else
  fail "blocked" "no consumer session waits on trends: $(psql_q "SELECT string_agg(concat_ws(':', application_name, wait_event_type, left(query, 50)), ' | ') FROM pg_stat_activity")"
fi
produce events --generate 400 --seed 13 2>>"$T/producer.log" || fail "produce" "$(tail -n 2 "$T/producer.log")"
if wait_for 60 sh -c "[ \$(psql -X -t -A -d shoal -c 'SELECT count(*) FROM events') -ge 1000 ]" && blocked; then
  pass "events are persisted while the recomputation waits"
else
  fail "persist" "$(psql_q 'SELECT count(*) FROM events') of 1000 rows, recomputation blocked: $(blocked && echo yes || echo no)"
fi

t0=$(now_ms)
kill -TERM $CONSUMER_PID
wait $CONSUMER_PID
rc=$?
el=$(( $(now_ms) - t0 ))
[ $rc = 0 ] && [ $el -lt 5000 ] && pass "SIGTERM exits 0 at once, the recomputation cancelled (${el} ms)" ||
  fail "sigterm" "exit $rc after $el ms: $(tail -n 3 "$T/c.log")"
if wait_for 10 sh -c "[ \$(psql -X -t -A -d shoal -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shoal-consumer'\") = 0 ]"; then
  pass "no consumer session is left on the server"
else
  fail "sessions" "$(psql_q "SELECT string_agg(concat_ws(':', state, wait_event_type, left(query, 50)), ' | ') FROM pg_stat_activity WHERE application_name = 'shoal-consumer'")"
fi
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()" >/dev/null
grep -q '"msg":"exiting","reason":"shutdown signal","exit_code":"0"' "$T/c.log" &&
  pass "the exit logged its reason" || fail "exit log" "$(tail -n 2 "$T/c.log")"
exit $FAILED
