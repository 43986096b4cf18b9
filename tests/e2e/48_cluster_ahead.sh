# Clustering ahead: while the writer holds the clustering lock from one
# batch to the next, the main loop clusters the next batch as it is
# prepared, in the order its events were prepared. The rows store that
# order (cluster_seq) and `replay --rebuild` repeats it. Two writers on one
# database still take turns: a holder lets the lock go after its batch when
# another one waits.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic a:6 --topic a.dlq:1 --topic b:6 --topic b.dlq:1 --topic c:6 --topic c.dlq:1

# Every event counted once: the live clusters' documents are the events.
counts() {
  psql_q "SELECT (SELECT count(*) FROM events WHERE kafka_topic = ANY('{$1}')) || '/' ||
    (SELECT count(DISTINCT id) FROM events) || '/' || (SELECT sum(docs) FROM clusters WHERE merged_into IS NULL) || '/' ||
    (SELECT count(*) FROM events WHERE cluster_id IS NOT NULL AND cluster_seq IS NULL)"
}
partition_of() {
  psql_q "SELECT md5(string_agg(id || '>' || rep, ',' ORDER BY id)) FROM
    (SELECT event_id AS id, min(event_id) OVER (PARTITION BY cluster_id) AS rep FROM event_clusters) x"
}

# 1. One consumer draining generated stories (they go on across batches).
N=6000
produce a --generate $N --seed 7 2>"$T/pa.log" || fail "produce" "$(tail -n 2 "$T/pa.log")"
GROUP=ga
eval "$(consumer_cmd) -t a --drain" 2>"$T/a.log" || fail "drain" "$(tail -n 3 "$T/a.log")"
ahead=$(grep -o '"clustered_ahead":"[0-9]*"' "$T/a.log" | tail -n 1 | tr -dc 0-9)
[ "${ahead:-0}" -gt 0 ] && pass "$ahead of $N events clustered while the previous batch was written" ||
  fail "clustered ahead" "${ahead:-none}"
[ "$(counts a)" = "$N/$N/$N/0" ] && pass "each event stored and counted in its cluster once, its place stored" ||
  fail "counts" "$(counts a)"
# Batches whose clustering order is not the Kafka order: the order the
# rebuild below must follow is only in the rows.
reordered=$(psql_q "SELECT count(*) FROM (SELECT array_agg(id ORDER BY cluster_seq) s,
  array_agg(id ORDER BY kafka_topic, kafka_partition, kafka_offset) k FROM events GROUP BY ingested_at) x WHERE s <> k")
[ "$reordered" -gt 0 ] && pass "$reordered batches clustered in another order than their Kafka positions" ||
  fail "order" "every batch in Kafka order"
orig=$(partition_of)
"$BIN/shoal-consumer" replay --rebuild --db "$DB" 2>"$T/r.log" || fail "rebuild" "$(tail -n 2 "$T/r.log")"
[ "$(partition_of)" = "$orig" ] && pass "replay --rebuild repeats the stored order: the same clusters" ||
  fail "rebuild" "another clustering ($(psql_q "SELECT count(*) FROM clusters WHERE merged_into IS NULL") clusters)"

# 2. Two groups writing one database at once: each takes the lock in turn.
# Both start with a backlog at the same instant: the lock is held here
# until both writers wait for it.
M=8000
produce b --generate $M --seed 8 2>"$T/pb.log" || fail "produce b" "$(tail -n 2 "$T/pb.log")"
produce c --generate $M --seed 9 2>"$T/pc.log" || fail "produce c" "$(tail -n 2 "$T/pc.log")"
KEY=7385610302
LOCK="locktype = 'advisory' AND classid = ($KEY >> 32)::oid AND objid = ($KEY & 4294967295)::oid AND objsubid = 1"
lock_rows() { psql_q "SELECT count(*) FROM pg_locks WHERE $LOCK AND granted = $1"; }
psql -X -q -d shoal -c "SELECT pg_advisory_lock($KEY), pg_sleep(300)" >/dev/null 2>&1 &
harness_track $!
i=0
while [ "$(lock_rows true)" != 1 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
for g in b c; do
  GROUP=g$g
  consumer_bg "$T/$g.log" -t $g
  eval "pid_$g=\$CONSUMER_PID"
done
i=0
while [ "$(lock_rows false)" != 2 ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
[ "$(lock_rows false)" = 2 ] || fail "waiting" "$(lock_rows false) writers wait for the lock"
psql_q "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE $LOCK AND granted" >/dev/null
stored() { psql_q "SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE consumer_group IN ('gb', 'gc')"; }
wait_for 120 sh -c "[ \"\$(psql -X -q -t -A -d shoal -c \"SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE consumer_group IN ('gb', 'gc')\")\" = $((2 * M)) ]" ||
  fail "stored" "$(stored) of $((2 * M)) offsets"
kill -TERM "$pid_b" "$pid_c"
wait "$pid_b" && wait "$pid_c" && pass "both consumers stop cleanly" || fail "stop" "$(tail -n 2 "$T/b.log") $(tail -n 2 "$T/c.log")"
[ "$(counts b,c)" = "$((2 * M))/$((N + 2 * M))/$((N + 2 * M))/0" ] &&
  pass "both groups' events stored and counted once" || fail "counts" "$(counts b,c)"
# The transactions in lock order (an xid is taken at the first write, after
# the lock): the groups' batches alternate instead of one group's running
# to the end while the other waits.
turns=$(psql_q "SELECT count(*) FILTER (WHERE t <> p) || '/' || count(*) FROM (SELECT t, lag(t) OVER (ORDER BY x) p FROM
  (SELECT DISTINCT xmin::text::bigint x, kafka_topic t FROM events WHERE kafka_topic IN ('b', 'c')) y) z")
switches=${turns%/*}
batches=${turns#*/}
[ "$switches" -ge $((batches / 3)) ] && pass "the groups took turns: $switches changes of writer in $batches batches" ||
  fail "turns" "$switches changes of writer in $batches batches: $(psql_q "SELECT string_agg(t || n, ' ' ORDER BY x)
    FROM (SELECT xmin::text::bigint x, kafka_topic t, count(*) n FROM events WHERE kafka_topic IN ('b', 'c') GROUP BY 1, 2) y")"
exit $FAILED
