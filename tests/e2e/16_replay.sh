# Replay: rewinding a group (from the beginning, to a new group, from a time)
# reprocesses the topic and yields the same rows, clusters and trends: no
# duplicates, and no extraction repeated for events already stored.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start
produce events tests/data/demo.jsonl 2>"$T/p.log" || fail "produce" "demo corpus"
eval "$(consumer_cmd) -t events --drain" 2>"$T/c1.log" || fail "first pass" "$(tail -n 2 "$T/c1.log")"
snapshot() {
  psql_q "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM facts), (SELECT count(*) FROM event_tags),
    (SELECT md5(string_agg(event_id || ':' || cluster_id, ',' ORDER BY event_id)) FROM event_clusters),
    (SELECT md5(string_agg(key || ':' || clusters || ':' || round(score::numeric, 6), ',' ORDER BY key)) FROM trends WHERE active)"
}
before=$(snapshot)
echo "before: $before"
case "$before" in 247\|*) pass "first pass stored the corpus" ;; *) fail "first pass" "$before" ;; esac
N=$(wc -l <tests/data/demo.jsonl)

"$BIN/shoal-consumer" replay --from-beginning -b "$BOOTSTRAP" -t events -g shoal --db "$DB" $TEST_SESSION_OPTS 2>"$T/r1.log"
rc=$?
[ $rc = 0 ] && pass "replay --from-beginning exits 0" || fail "replay" "exit $rc: $(tail -n 2 "$T/r1.log")"
after=$(snapshot)
[ "$after" = "$before" ] && pass "same rows, facts, tags, clusters and trends after the replay" || fail "replay result" "$after"
grep -q "\"duplicates\":\"$N\"" "$T/r1.log" && pass "all $N replayed events skipped before extraction" ||
  fail "skipped" "$(grep -o '"duplicates":"[0-9]*"' "$T/r1.log" | tail -n 1)"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='shoal'")
[ "$stored" = "$ends" ] && pass "offsets back at the end after the replay" || fail "offsets" "$stored vs $ends"
grep -q '"msg":"replay position".*"next_offset":"0"' "$T/r1.log" && pass "offsets rewound to the beginning first" || fail "rewind" "no position 0 logged"

"$BIN/shoal-consumer" replay --to-group fresh -b "$BOOTSTRAP" -t events -g shoal --db "$DB" $TEST_SESSION_OPTS 2>"$T/r2.log"
rc=$?
[ $rc = 0 ] && [ "$(snapshot)" = "$before" ] && pass "replay --to-group: same result" || fail "to-group" "exit $rc"
fresh=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='fresh'")
[ "$fresh" = "$ends" ] && pass "the new group is caught up" || fail "fresh group" "$fresh"

# A topic named twice is one topic: rewound once, read once (librdkafka
# refuses a subscription that lists it twice).
"$BIN/shoal-consumer" replay --from-beginning -b "$BOOTSTRAP" -t "events,events" -g shoal --db "$DB" $TEST_SESSION_OPTS 2>"$T/r5.log"
rc=$?
rewound=$(grep -c '"msg":"replay position"' "$T/r5.log")
parts=$(psql_q "SELECT count(*) FROM kafka_offsets WHERE consumer_group='shoal'")
[ $rc = 0 ] && [ "$(snapshot)" = "$before" ] && [ "$rewound" = "$parts" ] && grep -q "\"duplicates\":\"$N\"" "$T/r5.log" &&
  pass "a topic listed twice is replayed once" || fail "topic twice" "exit $rc, $rewound positions for $parts partitions: $(tail -n 1 "$T/r5.log")"
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='shoal'")
[ "$stored" = "$ends" ] && pass "offsets back at the end after it" || fail "offsets after topic twice" "$stored vs $ends"

# The mock cluster answers ListOffsets-by-time with -1 ("nothing at or after
# T"), so a timestamp replay resolves to the end: nothing is reprocessed.
# Against a real broker the same call finds the first offset at T.
"$BIN/shoal-consumer" replay --from-timestamp 2024-10-05T00:00:00Z -b "$BOOTSTRAP" -t events -g shoal --db "$DB" $TEST_SESSION_OPTS 2>"$T/r3.log"
rc=$?
[ $rc = 0 ] && [ "$(snapshot)" = "$before" ] && pass "replay --from-timestamp runs and changes nothing it should not" || fail "from-timestamp" "exit $rc"
"$BIN/shoal-consumer" replay -b "$BOOTSTRAP" -t events --db "$DB" 2>"$T/r4.log"
[ $? = 2 ] && pass "replay without a target is a usage error" || fail "usage" "accepted"
exit $FAILED
