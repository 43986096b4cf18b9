# --reextract replaces a stored event's extraction in place. An event
# deleted after it was looked up as stored, while its batch is being
# written, is stored again instead (the row gone, the UPDATE finds nothing).
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start 1
produce events --generate 20 --seed 9 2>"$T/p.log" || fail "produce" "$(tail -n 2 "$T/p.log")"
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/m.log" || fail "migrate" "$(tail -n 2 "$T/m.log")"
eval "$(consumer_cmd) -t events -g g1 --drain" 2>"$T/c1.log" || fail "first drain" "$(tail -n 3 "$T/c1.log")"
X=gen-9-10
psql_q "UPDATE events SET extracted_by = 'before'" >/dev/null
[ "$(psql_q "SELECT count(*) FROM events WHERE id = '$X'")" = 1 ] || fail "setup" "$X not stored"

# The gate: a session holds advisory lock 4444 until the test ends it. The
# deleting session removes X, then waits for the gate before it commits.
psql -X -q -d shoal -c "SET application_name = 'gate'" -c "SELECT pg_advisory_lock(4444), pg_sleep(120)" \
  >/dev/null 2>&1 &
wait_for 10 sh -c "[ \"\$(psql -X -t -A -d shoal -c \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4444 AND granted\")\" = 1 ]" ||
  fail "gate" "not held"
psql -X -q -d shoal >"$T/delete.log" 2>&1 <<SQL &
BEGIN;
DELETE FROM events WHERE id = '$X';
SELECT pg_advisory_lock(4444);
COMMIT;
SQL
DELETER=$!
wait_for 10 sh -c "[ \"\$(psql -X -t -A -d shoal -c \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4444 AND NOT granted\")\" = 1 ]" ||
  fail "deleting session" "not waiting at the gate"

# A second group extracts the stored events again; its update of X waits
# for the uncommitted delete.
eval "$(consumer_cmd) -t events -g g2 --drain --reextract" 2>"$T/c2.log" &
CPID=$!
if wait_for 60 sh -c "[ \"\$(psql -X -t -A -d shoal -c \"SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted\")\" -ge 1 ]"; then
  pass "the re-extraction of $X waits for its delete"
else
  fail "update wait" "no consumer waited: $(tail -n 2 "$T/c2.log")"
fi
psql -X -q -t -A -d shoal -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gate'" >/dev/null
wait "$DELETER" || fail "deleting session" "$(cat "$T/delete.log")"
wait_for 60 sh -c "! kill -0 $CPID" || { kill -TERM "$CPID"; fail "drain" "still running after 60 s"; }
wait "$CPID"
rc=$?
[ $rc = 0 ] && pass "consumer drained" || fail "consumer" "exit $rc: $(tail -n 3 "$T/c2.log")"
[ "$(psql_q "SELECT count(*) FROM events WHERE id = '$X' AND extracted_by = 'builtin' AND extraction IS NOT NULL")" = 1 ] &&
  pass "$X stored again, with its new extraction" || fail "deleted event" "$(psql_q "SELECT count(*) FROM events WHERE id = '$X'") rows"
[ "$(psql_q "SELECT count(*) || ':' || count(*) FILTER (WHERE extracted_by = 'builtin') FROM events")" = "20:20" ] &&
  pass "every other event's extraction replaced, none added" ||
  fail "rows" "$(psql_q "SELECT count(*), count(*) FILTER (WHERE extracted_by = 'builtin') FROM events")"
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 0 ] && pass "nothing dead-lettered" ||
  fail "dead letters" "$(psql_q "SELECT error_message FROM dead_letters LIMIT 2")"
exit $FAILED
