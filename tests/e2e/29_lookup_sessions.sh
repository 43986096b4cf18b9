# The event-id lookups the main loop sends ahead (answered while it
# extracts the events looked up before) on a session that the server keeps
# ending: each lost lookup goes again, and nothing is lost or stored twice.
# 1,500 of the messages repeat events sent before.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
N=6000
DUP=1500
events_start 6
produce events --generate "$N" --seed 29 2>"$T/p.log" &&
  produce events --generate "$DUP" --seed 29 2>>"$T/p.log" || fail "produce" "$(tail -n 2 "$T/p.log")"
"$BIN/shoal-consumer" migrate --db "$DB" 2>/dev/null
GROUP=g-lookups
consumer_bg "$T/c.log" -t events --drain --set batch.size=200
C=$CONSUMER_PID
# Ends every session whose latest statement is a lookup, as often as psql
# allows, until the consumer exits.
kills=0
while kill -0 "$C" 2>/dev/null; do
  k=$(psql_q "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE application_name = 'shoal-consumer' AND query LIKE 'SELECT id FROM events WHERE id = ANY%') x")
  kills=$((kills + ${k:-0}))
  [ "$kills" -ge 60 ] && break
done
wait "$C"
rc=$?
echo "$kills lookup sessions ended"
[ "$kills" -gt 0 ] && pass "sessions were ended under the lookups ($kills)" || fail "faults" "no lookup session was ended"
[ $rc = 0 ] && pass "the drain ends with exit 0" || fail "exit" "$rc: $(tail -n 3 "$T/c.log")"
r=$(psql_q "SELECT count(*) FROM events"); d=$(psql_q "SELECT count(DISTINCT id) FROM events")
[ "$r" = "$N" ] && [ "$d" = "$N" ] && pass "$N rows, each once" || fail "rows" "$r rows, $d distinct"
dups=$(grep -o '"duplicates":"[0-9]*"' "$T/c.log" | tail -n 1)
[ "$dups" = "\"duplicates\":\"$DUP\"" ] && pass "the $DUP repeats are counted as duplicates, not stored" ||
  fail "duplicates" "$dups"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group = 'g-lookups'")
[ "$stored" = "$ends" ] && pass "offsets equal the end offsets" || fail "offsets" "$stored vs $ends"
exit $FAILED
