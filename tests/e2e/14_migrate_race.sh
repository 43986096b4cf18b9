# Foundation: three replicas migrating at the same moment apply each
# migration exactly once (pg_advisory_lock), and a re-run applies nothing;
# the tag and fact views of migration 009, and an upgrade to them.
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

# Migration 009: tags and facts are views of the extraction. Each tag once,
# strings only; each fact with a string subject and predicate, numbered by
# its place in the list; object and currency only as strings, amount only
# as a number a double holds; no rows from a missing or malformed list.
ins_event() { # id extraction-json
  psql_q "INSERT INTO events (id, kind, source, title, kafka_topic, kafka_partition, kafka_offset, extraction)
          VALUES ('$1', 'article', 's', 't', 'x', 0, 0, '$2')" >/dev/null
}
ins_event v1 '{"tags":["ai","ai",3,"funding",null],"facts":[{"subject":"Acme","predicate":"raised","amount":5.25,"currency":"USD","object":7},{"predicate":"acquired"},4,{"subject":"Bolt","predicate":"acquired","object":"Cog","amount":"9","currency":1},{"subject":"Huge","predicate":"raised","amount":1e400}]}'
ins_event v2 '{"tags":"ai","facts":{"subject":"A","predicate":"raised"}}'
ins_event v3 '{}'
got=$(psql_q "SELECT string_agg(event_id || ':' || tag, ',' ORDER BY event_id, tag) FROM event_tags")
[ "$got" = "v1:ai,v1:funding" ] && pass "event_tags: each string tag of the extraction once" || fail "event_tags view" "$got"
got=$(psql_q "SELECT string_agg(concat_ws('|', event_id, idx, subject, predicate, coalesce(object, '-'),
                coalesce(amount::text, '-'), coalesce(currency, '-')), ',' ORDER BY event_id, idx) FROM facts")
[ "$got" = "v1|1|Acme|raised|-|5.25|USD,v1|4|Bolt|acquired|Cog|-|-,v1|5|Huge|raised|-|-|-" ] &&
  pass "facts: the extraction's facts with subject and predicate, numbered by place, typed" || fail "facts view" "$got"
# A consumer of an earlier version writes the rows itself during a rollout:
# its COPY and deletes go through and change nothing.
printf 'v3\tstale\n' | psql -X -q -d shoal -c "COPY event_tags (event_id, tag) FROM STDIN" 2>"$T/old.log" &&
  psql_q "DELETE FROM event_tags WHERE event_id = 'v1'; DELETE FROM facts WHERE event_id = 'v1';
          INSERT INTO facts (event_id, idx, subject, predicate) VALUES ('v3', 1, 'S', 'raised')" >/dev/null 2>>"$T/old.log" &&
  [ "$(psql_q "SELECT (SELECT count(*) FROM event_tags) || '/' || (SELECT count(*) FROM facts)")" = "2/3" ] &&
  pass "an earlier version's tag and fact writes are accepted and change nothing" || fail "old writer" "$(cat "$T/old.log")"

# Upgrading a database of migration 008, whose tag and fact tables hold rows:
# they become the views, which show the same rows.
psql_q "CREATE DATABASE shoal_old" >/dev/null
OLD_DB="host=$PG_DIR port=$PGPORT user=postgres dbname=shoal_old"
for f in schema/00[1-8]_*.sql; do psql -X -q -v ON_ERROR_STOP=1 -d shoal_old -f "$f" >/dev/null || fail "schema" "$f"; done
psql -X -q -v ON_ERROR_STOP=1 -d shoal_old >/dev/null <<'SQL' || fail "old database" "not set up"
CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version, name) SELECT g, 'old' FROM generate_series(1, 8) g;
INSERT INTO events (id, kind, source, title, kafka_topic, kafka_partition, kafka_offset, extraction)
VALUES ('o1', 'article', 's', 't', 'x', 0, 0, '{"tags":["ai","chips"],"facts":[{"subject":"Acme","predicate":"raised","amount":6.6e9,"currency":"USD"}]}');
INSERT INTO event_tags VALUES ('o1', 'ai'), ('o1', 'chips');
INSERT INTO facts VALUES ('o1', 1, 'Acme', 'raised', NULL, 6.6e9, 'USD');
SQL
before=$(psql -X -q -t -A -d shoal_old -c "SELECT (SELECT string_agg(tag, ',' ORDER BY tag) FROM event_tags) || ';' ||
  (SELECT string_agg(concat_ws('|', idx, subject, predicate, amount, currency), ',') FROM facts)")
"$BIN/shoal-consumer" migrate --db "$OLD_DB" 2>"$T/m-old.log" || fail "migrate 008 database" "$(tail -n 2 "$T/m-old.log")"
after=$(psql -X -q -t -A -d shoal_old -c "SELECT (SELECT string_agg(tag, ',' ORDER BY tag) FROM event_tags) || ';' ||
  (SELECT string_agg(concat_ws('|', idx, subject, predicate, amount, currency), ',') FROM facts)")
kinds=$(psql -X -q -t -A -d shoal_old -c "SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class
  WHERE relname IN ('event_tags', 'facts', 'cluster_summary')")
[ "$after" = "$before" ] && [ "$before" = "ai,chips;1|Acme|raised|6600000000|USD" ] &&
  [ "$kinds" = "cluster_summary:v,event_tags:v,facts:v" ] &&
  pass "a database of migration 008 upgrades: its tags and facts are views with the same rows" ||
  fail "upgrade 008" "$before -> $after ($kinds)"
# A database that cannot be reached: bounded, exit code 3, the setting named.
"$BIN/shoal-consumer" migrate --db "host=/nonexistent dbname=x" --set startup.timeout.ms=1500 2>"$T/m5.log"
rc=$?
[ $rc = 3 ] && grep -q 'startup.timeout.ms' "$T/m5.log" && pass "unreachable database: exit 3 with reason" || fail "unreachable" "exit $rc"
exit $FAILED
