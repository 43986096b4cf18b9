# Two consumer groups writing one database at once (a replay to a new group
# while the live one runs, say): each event is stored once and adds its
# cluster increment once, even when one group's batch holds events the
# other's transaction is writing (found stored in the writing transaction,
# under the clustering lock). With cluster.threshold at 1 every event is
# its own cluster and its increment depends on the event alone, so the
# result must equal one consumer's, term weight for term weight.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start
produce events tests/data/demo.jsonl 2>"$T/p.log" || fail "produce" "demo corpus"
N=$(wc -l <tests/data/demo.jsonl)
ALONE="--set cluster.threshold=1 --set cluster.merge.threshold=1 --set batch.size=7"

sq() { psql -X -q -t -A -d "$1" -c "$2"; }
sq postgres "CREATE DATABASE shoal_ref" >/dev/null
REF_DB="host=$PG_DIR port=$PGPORT user=postgres dbname=shoal_ref"
"$BIN/shoal-consumer" migrate --db "$REF_DB" 2>"$T/m.log" || fail "migrate" "$(tail -n 2 "$T/m.log")"
"$BIN/shoal-consumer" -b "$BOOTSTRAP" -g ref --db "$REF_DB" $TEST_SESSION_OPTS -t events --drain $ALONE \
  2>"$T/ref.log" || fail "reference run" "$(tail -n 2 "$T/ref.log")"

for g in g1 g2; do
  GROUP=$g
  eval "$(consumer_cmd) -t events --drain $ALONE" 2>"$T/$g.log" &
  eval "pid_$g=\$!"
done
wait "$pid_g1" && wait "$pid_g2" && pass "both groups drained the topic" ||
  fail "groups" "$(tail -n 2 "$T/g1.log") $(tail -n 2 "$T/g2.log")"

# The reference's term weights beside the shared database's. A term both
# keep has the same weight (within 1e-9): an event counted twice would
# double its cluster's. Each engine ranks a cluster's terms by its own
# document frequencies (the groups' engines saw different events), so a
# term tied at the last place kept may differ: at most 1 in 1,000 rows.
TERMS="(SELECT c.id AS cluster_id, u.term, u.weight FROM clusters c, unnest(c.terms, c.weights) AS u(term, weight))"
psql -X -q -d shoal_ref -c "\\copy (SELECT * FROM $TERMS t) TO '$T/ref_terms'" &&
  sq shoal "CREATE TABLE ref_terms (cluster_id bigint, term text, weight double precision)" >/dev/null &&
  psql -X -q -d shoal -c "\\copy ref_terms FROM '$T/ref_terms'" || fail "reference terms" "not copied"
terms_off() {
  sq shoal "SELECT count(*) FROM $TERMS c JOIN ref_terms r USING (cluster_id, term)
    WHERE abs(c.weight - r.weight) > 1e-9 * greatest(1, abs(r.weight))"
}
terms_apart() {
  sq shoal "SELECT count(*) FROM $TERMS c FULL JOIN ref_terms r USING (cluster_id, term)
    WHERE c.weight IS NULL OR r.weight IS NULL"
}
sums() {
  sq "$1" "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(DISTINCT id) FROM events) || '/' ||
    (SELECT count(*) FROM clusters) || '/' || (SELECT sum(docs) FROM clusters)"
}
[ "$(sums shoal)" = "$N/$N/$N/$N" ] && pass "$N events stored once, $N clusters of one document" ||
  fail "rows" "$(sums shoal)"
off=$(terms_off)
apart=$(terms_apart)
ref_rows=$(sq shoal_ref "SELECT count(*) FROM $TERMS t")
[ "$off" = 0 ] && [ "$ref_rows" -gt 0 ] && [ $((apart * 1000)) -le "$ref_rows" ] &&
  pass "cluster terms equal one consumer's: no event counted twice ($apart of $ref_rows rows kept by one side only)" ||
  fail "terms" "$off weights differ, $apart rows on one side only; $(sq shoal "SELECT count(*), sum(weight) FROM $TERMS t") vs $(sq shoal_ref "SELECT count(*), sum(weight) FROM $TERMS t")"
d1=$(grep -o '"duplicates":"[0-9]*"' "$T/g1.log" | tail -n 1 | tr -dc 0-9)
d2=$(grep -o '"duplicates":"[0-9]*"' "$T/g2.log" | tail -n 1 | tr -dc 0-9)
[ $((d1 + d2)) = "$N" ] && pass "each event skipped by exactly one group ($d1 + $d2)" || fail "duplicates" "$d1 + $d2"
exit $FAILED
