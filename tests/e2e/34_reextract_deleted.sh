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
gate_hold 4444 || fail "gate" "not held"
gate_behind 4444 "$T/delete.log" <<SQL || fail "deleting session" "not waiting at the gate"
DELETE FROM events WHERE id = '$X';
SQL

# A second group extracts the stored events again; its update of X waits
# for the uncommitted delete.
consumer_through_gate 60 "$T/c2.log" "the re-extraction of $X waits for its delete" -t events -g g2 --drain --reextract
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
