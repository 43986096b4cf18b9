# Foundation: three replicas migrating at the same moment apply each
# migration exactly once (pg_advisory_lock), and a re-run applies nothing.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
pids=""
for i in 1 2 3; do
  "$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/m$i.log" &
  pids="$pids $!"
done
ok=0
for p in $pids; do wait $p && ok=$((ok + 1)); done
[ $ok = 3 ] && pass "3 concurrent migrate runs exit 0" || fail "concurrent migrate" "$ok of 3 succeeded"
files=$(ls schema/[0-9][0-9][0-9]_*.sql | wc -l)
recorded=$(psql_q "SELECT count(*) FROM schema_migrations")
distinct=$(psql_q "SELECT count(DISTINCT version) FROM schema_migrations")
[ "$recorded" = "$files" ] && [ "$distinct" = "$files" ] && pass "each of $files migrations recorded once" || fail "recorded" "$recorded rows for $files files"
applied=$(cat "$T"/m*.log | grep -o '"msg":"migration applied"' | wc -l)
[ "$applied" = "$files" ] && pass "each migration applied by exactly one replica" || fail "applied" "$applied applications"
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/m4.log"
grep -q '"applied":"0"' "$T/m4.log" && pass "re-run applies nothing" || fail "re-run" "$(tail -n 2 "$T/m4.log")"
psql_q "SELECT 1 FROM events LIMIT 0" >/dev/null && pass "events table exists" || fail "events table" "missing"
# A database that cannot be reached: bounded, exit code 3, the setting named.
"$BIN/shoal-consumer" migrate --db "host=/nonexistent dbname=x" --set startup.timeout.ms=1500 2>"$T/m5.log"
rc=$?
[ $rc = 3 ] && grep -q 'startup.timeout.ms' "$T/m5.log" && pass "unreachable database: exit 3 with reason" || fail "unreachable" "exit $rc"
exit $FAILED
