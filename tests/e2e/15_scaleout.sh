# Scale-out: three consumer processes in one group. kill -9 one member
# mid-run: the others take over with zero loss and zero duplicates. Scale
# 1 -> 3 -> 1 during a run: zero loss, zero duplicates, and the instances'
# shares add up to the total.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
N=${N:-30000}
pg_start
mock_start --brokers 3 --topic events:6 --topic scale:6 --topic events.dlq:1 --topic scale.dlq:1
produce events --generate "$N" --seed 21 2>"$T/p1.log" || fail "produce" "events"
produce scale --generate "$N" --seed 22 2>"$T/p2.log" || fail "produce" "scale"
"$BIN/shoal-consumer" migrate --db "$DB" 2>/dev/null
rows() { psql_q "SELECT count(*) FROM events WHERE id LIKE 'gen-$1-%'"; }
wait_rows() { # seed target seconds
  i=0
  while [ "$(rows "$1")" -lt "$2" ]; do i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}
COMMON="--set batch.size=100"

# --- kill -9 one of three members
GROUP=g-kill
for i in 1 2 3; do consumer_bg "$T/k$i.log" -t events $COMMON; eval "K$i=\$CONSUMER_PID"; done
wait_for 60 grep -q '"msg":"partition assigned"' "$T/k2.log"
wait_rows 21 $((N / 10)) 120
kill -9 "$K2"
echo "killed member 2 at $(rows 21) rows"
wait_rows 21 "$N" 240 && pass "the other members finish the work after a kill -9" || fail "takeover" "$(rows 21) of $N rows"
for p in $K1 $K3; do kill -TERM "$p"; done
ok=0; for p in $K1 $K3; do wait "$p" && ok=$((ok + 1)); done
[ $ok = 2 ] && pass "survivors exit 0 on SIGTERM" || fail "survivor exits" "$ok of 2"
r=$(rows 21); d=$(psql_q "SELECT count(DISTINCT id) FROM events WHERE id LIKE 'gen-21-%'")
[ "$r" = "$N" ] && [ "$d" = "$N" ] && pass "kill -9 of a member: $N rows, no loss, no duplicates" || fail "rows after kill" "$r rows, $d distinct"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='g-kill'")
[ "$stored" = "$ends" ] && pass "offsets equal end offsets after the kill" || fail "offsets" "$stored vs $ends"

# --- scale 1 -> 3 -> 1
GROUP=g-scale
consumer_bg "$T/s1.log" -t scale $COMMON; S1=$CONSUMER_PID
wait_rows 22 $((N / 10)) 120
consumer_bg "$T/s2.log" -t scale $COMMON; S2=$CONSUMER_PID
consumer_bg "$T/s3.log" -t scale $COMMON; S3=$CONSUMER_PID
wait_for 90 grep -q '"msg":"partition assigned"' "$T/s3.log" && wait_for 30 grep -q '"msg":"partition assigned"' "$T/s2.log" &&
  pass "scaled to 3: new members get partitions" || fail "scale up" "no assignment for new members"
echo "scaled down at $(rows 22) rows"
kill -TERM "$S2" "$S3"
ok=0; for p in $S2 $S3; do wait "$p" && ok=$((ok + 1)); done
[ $ok = 2 ] && pass "scaled back to 1: leavers exit 0" || fail "scale down" "$ok of 2 exited 0"
wait_rows 22 "$N" 240 && pass "the remaining member finishes" || fail "finish" "$(rows 22) of $N"
kill -TERM "$S1"; wait "$S1"
r=$(rows 22); d=$(psql_q "SELECT count(DISTINCT id) FROM events WHERE id LIKE 'gen-22-%'")
[ "$r" = "$N" ] && [ "$d" = "$N" ] && pass "1 -> 3 -> 1: $N rows, no loss, no duplicates" || fail "rows after scaling" "$r rows, $d distinct"
shares=0
for i in 1 2 3; do
  s=$(grep -o '"msg":"progress","consumed":"[0-9]*","persisted":"[0-9]*"' "$T/s$i.log" | tail -n 1 | grep -o '"persisted":"[0-9]*"' | grep -o '[0-9]*')
  echo "instance $i persisted ${s:-0}"
  shares=$((shares + ${s:-0}))
done
[ "$shares" = "$N" ] && pass "per-instance shares add up to $N" || fail "shares" "sum $shares"
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dead" = 0 ] && pass "nothing dead-lettered" || fail "dead letters" "$dead"
# The clusters every instance wrote form one consistent set: each event in
# a live cluster (through the cluster it joined), each live cluster's
# documents its events, and every merged-away cluster pointing straight at a
# live one.
orphans=$(psql_q "SELECT count(*) FROM events e LEFT JOIN event_clusters ec ON ec.event_id = e.id
                  LEFT JOIN clusters c ON c.id = ec.cluster_id WHERE c.id IS NULL OR c.merged_into IS NOT NULL")
docs=$(psql_q "SELECT sum(docs) FROM clusters WHERE merged_into IS NULL")
miscounted=$(psql_q "SELECT count(*) FROM clusters c LEFT JOIN (SELECT cluster_id, count(*) AS n FROM event_clusters
                     GROUP BY 1) x ON x.cluster_id = c.id WHERE c.merged_into IS NULL AND c.docs <> coalesce(x.n, 0)")
unmoved=$(psql_q "SELECT count(*) FROM events e JOIN clusters c ON c.id = e.cluster_id WHERE c.merged_into IS NOT NULL")
chains=$(psql_q "SELECT count(*) FROM clusters a JOIN clusters b ON b.id = a.merged_into WHERE b.merged_into IS NOT NULL")
merged=$(psql_q "SELECT count(*) FROM clusters WHERE merged_into IS NOT NULL")
events=$(psql_q "SELECT count(*) FROM events")
[ "$orphans" = 0 ] && [ "$docs" = "$events" ] && [ "$miscounted" = 0 ] && [ "$chains" = 0 ] &&
  pass "clusters consistent across instances: $docs documents in live clusters, $merged merged away ($unmoved events reached through them), no chains" ||
  fail "cluster consistency" "$orphans events outside a live cluster, $docs documents for $events events, $miscounted clusters miscounted, $chains chained merges"
exit $FAILED
