# One end-to-end run of the consumer under valgrind --leak-check=full: a
# small corpus with a few poison messages, --drain, then valgrind must report
# zero errors and zero definitely lost bytes.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
command -v valgrind >/dev/null 2>&1 || { fail "valgrind" "not installed"; exit 1; }
pg_start
mock_start --brokers 1 --topic events:2 --topic events.dlq:1
head -n 20 tests/data/demo.jsonl >"$T/in.jsonl"
produce events "$T/in.jsonl" 2>"$T/p.log" || fail "produce" "$(tail -n 3 "$T/p.log")"
printf 'not json\n{"source":"x","title":"a","title":"b"}\n' | kcat -b "$BOOTSTRAP" -P -t events 2>"$T/kcat.log"
valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file="$T/vg.log" \
  "$BIN/shoal-consumer" -b "$BOOTSTRAP" -g vg --db "$DB" -t events --drain $TEST_SESSION_OPTS \
  --set startup.timeout.ms=120000 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && pass "consumer under valgrind drained, exit 0" || fail "valgrind run" "exit $rc: $(grep -E 'ERROR SUMMARY|definitely' "$T/vg.log")"
[ "$(psql_q 'SELECT count(*) FROM events')" = 20 ] && [ "$(psql_q 'SELECT count(*) FROM dead_letters')" = 2 ] &&
  pass "20 stored, 2 dead-lettered under valgrind" || fail "outcomes" "$(psql_q 'SELECT count(*) FROM events') stored"
grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.log" && pass "valgrind: $(grep -o "ERROR SUMMARY.*" "$T/vg.log")" || fail "valgrind errors" "$(grep 'ERROR SUMMARY' "$T/vg.log")"
grep -qE 'definitely lost: 0 bytes|All heap blocks were freed' "$T/vg.log" && pass "valgrind: $(grep -oE "definitely lost:.*|All heap blocks were freed.*" "$T/vg.log")" ||
  fail "definite leak" "$(grep 'definitely lost' "$T/vg.log")"
exit $FAILED
