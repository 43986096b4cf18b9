# replay --rebuild: extraction, tags, facts, clusters and trends recomputed
# from the events stored in PostgreSQL with Kafka gone; the same event ->
# cluster partition as the original single-instance run; another
# cluster.threshold gives another clustering; LLM extractions kept; refused
# while a consumer runs, and a consumer waits out a rebuild.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:3 --topic events.dlq:1 --topic late:1
# The demo corpus: stories and trends, 247 events, two pages of the rebuild
# (STORE_REBUILD_PAGE), on three partitions; every event sent twice in a
# row and an odd batch size, so some copies land in the batch after their
# first, which is still being written while the copy's batch is prepared:
# the copy is known then, and neither clustered again nor counted twice.
awk '{ print; print }' tests/data/demo.jsonl >"$T/twice.jsonl"
produce events "$T/twice.jsonl" 2>"$T/p1.log" || fail "produce" "demo corpus"
eval "$(consumer_cmd) -t events --drain --set batch.size=15" 2>"$T/c1.log" || fail "first pass" "$(tail -n 2 "$T/c1.log")"
rebuild() { "$BIN/shoal-consumer" replay --rebuild --db "$DB" "$@"; }

clusters_of() { psql_q "SELECT md5(string_agg(event_id || ':' || cluster_id, ',' ORDER BY event_id)) FROM event_clusters"; }
# The partition alone, whatever the ids: each event with the least event id
# of its cluster.
partition_of() {
  psql_q "SELECT md5(string_agg(id || '>' || rep, ',' ORDER BY id)) FROM
    (SELECT event_id AS id, min(event_id) OVER (PARTITION BY cluster_id) AS rep FROM event_clusters) x"
}
derived() {
  psql_q "SELECT (SELECT count(*) FROM clusters WHERE merged_into IS NULL),
    (SELECT md5(string_agg(id || ':' || docs || ':' || first_seen || ':' || last_seen, ',' ORDER BY id)) FROM clusters WHERE merged_into IS NULL),
    (SELECT md5(string_agg(event_id || ':' || tag, ',' ORDER BY event_id, tag)) FROM event_tags),
    (SELECT md5(string_agg(event_id || ':' || idx || ':' || subject || ':' || predicate || ':' || coalesce(amount::text, ''), ',' ORDER BY event_id, idx)) FROM facts),
    (SELECT md5(string_agg(id || ':' || extraction::text, ',' ORDER BY id)) FROM events),
    (SELECT md5(string_agg(key || ':' || clusters || ':' || round(score::numeric, 6), ',' ORDER BY key)) FROM trends WHERE active)"
}
events_of() { psql_q "SELECT count(*) || '/' || count(DISTINCT id) || '/' || md5(string_agg(id || body, ',' ORDER BY id)) FROM events"; }

n_events=$(psql_q "SELECT count(*) FROM events")
n_trends=$(psql_q "SELECT count(*) FROM trends WHERE active")
[ "$n_events" = 247 ] && [ "$n_trends" -gt 0 ] && pass "first pass stored $n_events events, $n_trends trends" ||
  fail "first pass" "$n_events events, $n_trends trends"
orig_clusters=$(clusters_of)
orig_partition=$(partition_of)
orig_derived=$(derived)
orig_events=$(events_of)
TERMS="(SELECT c.id AS cluster_id, u.term, u.weight FROM clusters c, unnest(c.terms, c.weights) AS u(term, weight))"
orig_terms=$(psql_q "SELECT count(*) FROM $TERMS t")
psql_q "CREATE TABLE orig_terms AS SELECT * FROM $TERMS t" >/dev/null

# Kafka is gone from here on: no broker, no mock cluster.
kill -9 "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null

# Derived state damaged: clusters gone, one builtin extraction (and so its
# tags and facts) tampered with, trends gone.
psql_q "DELETE FROM clusters; UPDATE events SET cluster_id = NULL; DELETE FROM trends;
  UPDATE events SET extraction = '{\"extracted_by\":\"builtin\",\"tags\":[\"tampered\"]}'
    WHERE id = (SELECT min(id) FROM events)" >/dev/null
rebuild 2>"$T/r1.log"
rc=$?
[ $rc = 0 ] && pass "rebuild without Kafka exits 0" || fail "rebuild" "exit $rc: $(tail -n 2 "$T/r1.log")"
[ "$(clusters_of)" = "$orig_clusters" ] && pass "same event -> cluster assignment (ids too) as the original single-instance run" ||
  fail "clusters" "differ from the original run"
[ "$(derived)" = "$orig_derived" ] && pass "clusters, tags, facts, extractions and trends restored" ||
  fail "derived" "$(derived) vs $orig_derived"
[ "$(events_of)" = "$orig_events" ] && pass "no event lost, duplicated or changed" || fail "events" "$(events_of)"
[ "$(psql_q "SELECT count(*) FROM events WHERE cluster_id IS NULL")" = 0 ] &&
  [ "$(psql_q "SELECT sum(docs) FROM clusters WHERE merged_into IS NULL")" = "$n_events" ] &&
  [ "$(psql_q "SELECT count(*) FROM events e LEFT JOIN event_clusters ec ON ec.event_id = e.id LEFT JOIN clusters c ON c.id = ec.cluster_id WHERE c.id IS NULL OR c.merged_into IS NOT NULL")" = 0 ] &&
  pass "every event in exactly one live cluster; cluster sums count each event once" || fail "cluster sums" "inconsistent"
terms=$(psql_q "SELECT count(*) FROM $TERMS t")
off=$(psql_q "SELECT count(*) FROM orig_terms o FULL JOIN $TERMS c USING (cluster_id, term)
  WHERE o.weight IS NULL OR c.weight IS NULL OR abs(o.weight - c.weight) > 1e-9 * greatest(1, abs(o.weight))")
[ "$terms" = "$orig_terms" ] && [ "$off" = 0 ] &&
  pass "cluster terms rebuilt ($terms rows, the same weights: no event counted twice)" ||
  fail "terms" "$terms vs $orig_terms rows, $off weights differ"
grep -q '"msg":"rebuild committed".*"events":"'"$n_events"'"' "$T/r1.log" && pass "each event read once" ||
  fail "rebuild log" "$(grep 'rebuild committed' "$T/r1.log")"

# Another threshold: another clustering; the default again: the original.
rebuild --set cluster.threshold=0.9 2>"$T/r2.log" || fail "rebuild 0.9" "$(tail -n 2 "$T/r2.log")"
more=$(psql_q "SELECT count(*) FROM clusters WHERE merged_into IS NULL")
orig_n=$(echo "$orig_derived" | cut -d'|' -f1)
[ "$(partition_of)" != "$orig_partition" ] && [ "$more" -gt "$orig_n" ] &&
  pass "cluster.threshold=0.9 rebuilds another clustering ($more clusters, was $orig_n)" ||
  fail "threshold" "$more clusters, partition unchanged?"
rebuild 2>"$T/r3.log" || fail "rebuild again" "$(tail -n 2 "$T/r3.log")"
[ "$(clusters_of)" = "$orig_clusters" ] && [ "$(derived)" = "$orig_derived" ] &&
  pass "rebuilding with the original settings gives the original clustering back" || fail "back" "differs"

# LLM extractions are paid work: kept as stored (tags and facts from them).
llm_id=$(psql_q "SELECT max(id) FROM events")
psql_q "UPDATE events SET extracted_by = 'llm:fake', extractor_version = 'llm-1',
  extraction = '{\"extracted_by\":\"llm:fake\",\"extractor_version\":\"llm-1\",\"entities\":[],\"tags\":[\"from-llm\"],
    \"facts\":[{\"subject\":\"Acme\",\"predicate\":\"raised\",\"amount\":5,\"currency\":\"USD\"}]}'
  WHERE id = '$llm_id'" >/dev/null
rebuild 2>"$T/r4.log" || fail "rebuild llm" "$(tail -n 2 "$T/r4.log")"
got=$(psql_q "SELECT extracted_by || ':' || (extraction->'tags')::text || ':' ||
  (SELECT string_agg(tag, ',') FROM event_tags WHERE event_id = '$llm_id') || ':' ||
  (SELECT string_agg(subject || '/' || predicate, ',') FROM facts WHERE event_id = '$llm_id') FROM events WHERE id = '$llm_id'")
[ "$got" = 'llm:fake:["from-llm"]:from-llm:Acme/raised' ] && pass "LLM extraction kept, and its tags and facts" ||
  fail "llm kept" "$got"
grep -q '"kept":"1"' "$T/r4.log" && pass "one extraction kept, the rest re-extracted" || fail "kept count" "$(grep 'rebuild committed' "$T/r4.log")"

# --reextract with an LLM: LLM extractions (only they) go through it again.
rebuild --reextract 2>"$T/r4b.log"
rc=$?
[ $rc = 2 ] && pass "--rebuild --reextract without llm.url is a usage error" || fail "reextract usage" "exit $rc"
fake_llm_start ok
rebuild --reextract --set llm.url="$LLM_URL" 2>"$T/r4c.log" || fail "rebuild --reextract" "$(tail -n 2 "$T/r4c.log")"
got=$(psql_q "SELECT extracted_by || ':' || (SELECT count(*) FROM event_tags WHERE event_id = '$llm_id' AND tag = 'from-llm')
  FROM events WHERE id = '$llm_id'")
reqs=$(fake_llm_stat requests)
[ "$got" = "llm:gpt-4o-mini:0" ] && [ "$reqs" = 1 ] && grep -q '"llm_reextracted":"1"' "$T/r4c.log" &&
  pass "--reextract: the one LLM extraction sent to the LLM again and replaced, with its tags" ||
  fail "reextract" "$got, $reqs requests"
[ "$(psql_q "SELECT count(*) FROM events WHERE extracted_by = 'builtin'")" = $((n_events - 1)) ] &&
  pass "--reextract: built-in extractions stay built-in (no LLM call for them)" || fail "reextract builtin" "changed"


# A failure midway rolls everything back: the database refuses new clusters.
before=$(derived)
psql -X -q -d shoal <<'SQL'
CREATE FUNCTION no_clusters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'clusters refused for the test'; END $$;
CREATE TRIGGER no_clusters BEFORE INSERT ON clusters FOR EACH ROW EXECUTE FUNCTION no_clusters();
SQL
rebuild 2>"$T/r5.log"
rc=$?
psql_q "DROP TRIGGER no_clusters ON clusters" >/dev/null
[ $rc = 1 ] && grep -q 'rebuild failed and was rolled back.*clusters refused' "$T/r5.log" && [ "$(derived)" = "$before" ] &&
  [ "$(psql_q "SELECT count(*) FROM events WHERE cluster_id IS NULL")" = 0 ] &&
  pass "a rebuild failing midway exits 1, says why, and changes nothing" || fail "failure" "exit $rc: $(tail -n 1 "$T/r5.log")"

# Kafka back, a consumer running: the rebuild is refused, the consumer unharmed.
exec 9>&-
rm -f "$T/mock.in" "$T/bootstrap"
mock_start --brokers 1 --topic late:1 --topic late.dlq:1
GROUP=late consumer_bg "$T/c2.log" -t late
wait_for 60 grep -q '"msg":"consumer started"' "$T/c2.log" || fail "consumer" "did not start"
rebuild 2>"$T/r6.log"
rc=$?
[ $rc = 2 ] && grep -q 'consumers are running' "$T/r6.log" && pass "rebuild refused (exit 2) while a consumer runs" ||
  fail "refusal" "exit $rc: $(tail -n 1 "$T/r6.log")"
produce late --generate 30 --seed 81 2>"$T/p4.log"
if wait_rows_above $((n_events + 29)) 60 "$CONSUMER_PID"; then pass "the running consumer kept storing events"
else fail "consumer harmed" "$(psql_q 'SELECT count(*) FROM events')"; fi
kill -TERM "$CONSUMER_PID"; wait "$CONSUMER_PID"
rc=$?
[ $rc = 0 ] && pass "the consumer still shuts down cleanly" || fail "consumer exit" "$rc"

# A rebuild in progress (its lock held): a consumer starting meanwhile says
# so and retries with back-off; once the lock is free it works.
KEY=$(sed -n 's/^#define REBUILD_LOCK_KEY "\([0-9]*\)"/\1/p' consumer/store.c)
psql -X -q -d shoal -c "SELECT pg_advisory_lock($KEY); SELECT pg_sleep(8)" >/dev/null &
LOCKER=$!
lock_held() { [ "$(psql_q "SELECT pg_try_advisory_lock_shared($KEY)")" = f ]; }
wait_for 10 lock_held || fail "lock" "not taken"
eval "$(consumer_cmd) -t late --set startup.timeout.ms=2000" 2>"$T/c3.log"
rc=$?
[ $rc = 3 ] && grep -q 'rebuild in progress' "$T/c3.log" && pass "a consumer that cannot start during a rebuild exits 3 within startup.timeout.ms, saying why" ||
  fail "startup bound" "exit $rc: $(tail -n 1 "$T/c3.log")"
GROUP=late consumer_bg "$T/c4.log" -t late
produce late --generate 10 --seed 82 2>"$T/p5.log"
wait_for 15 grep -q 'rebuild in progress' "$T/c4.log" && kill -0 "$CONSUMER_PID" &&
  pass "a consumer starting during a rebuild logs 'rebuild in progress' and waits" || fail "wait" "$(tail -n 1 "$T/c4.log")"
wait "$LOCKER"
if wait_rows_above $((n_events + 39)) 90 "$CONSUMER_PID"; then pass "once the rebuild lock is free the consumer stores the events"
else fail "after lock" "$(tail -n 2 "$T/c4.log")"; fi
kill -TERM "$CONSUMER_PID"; wait "$CONSUMER_PID"
exit $FAILED
