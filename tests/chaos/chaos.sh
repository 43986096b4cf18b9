# Chaos suite: one long run of the consumer through every fault it must
# survive, on real PostgreSQL and the mock cluster.
#
#   kill -9 at random instants, restarted each time;
#   SIGTERM at random instants (exit 0 within shutdown.timeout.ms);
#   PostgreSQL restarted mid-run (restart -m immediate, a stop/start outage,
#   restart -m fast);
#   every broker down for CHAOS_BROKER_DOWN_S seconds;
#   the group lost (brokers down) while a batch is being retried (database
#   down, partitions paused);
#   poison messages of every kind mixed into the stream;
#   the LLM unreachable for the whole run (once the consumer has llm.url).
#
# Then: rows equal the distinct events produced, no duplicates, the dead
# letters equal the poison injected (read back with kcat, headers checked),
# kafka_offsets equal the end offsets, and every exit logged its reason.
# Sizes come from the environment; the defaults are the long run (make
# chaos); tests/e2e/17_chaos.sh runs the CI sizes.
set -u
. tests/support/lib.sh
EVENTS=${CHAOS_EVENTS:-200000}
KILLS=${CHAOS_KILLS:-20}
TERMS=${CHAOS_TERMS:-5}
POISON=${CHAOS_POISON:-10000}
BIG=${CHAOS_BIG:-4}                  # poison over the whole-message limit (~1.1 MB each)
PARTS=${CHAOS_PARTITIONS:-64}        # the mock keeps ~5 MB per partition
DLQ_PARTS=${CHAOS_DLQ_PARTITIONS:-16}
# The stream is produced in chunks, one per fault step at most (below).
CHUNKS=${CHAOS_CHUNKS:-$((KILLS + TERMS + 12))}
BACKLOG=${CHAOS_BACKLOG:-$((EVENTS / 10))}
BROKER_DOWN_S=${CHAOS_BROKER_DOWN_S:-10}
SHUTDOWN_MS=${CHAOS_SHUTDOWN_MS:-8000}
BATCH=${CHAOS_BATCH:-500}
STALL_S=${CHAOS_STALL_S:-120}      # longest wait for progress after a fault
LLM_DOWN_URL=http://127.0.0.1:9/
GROUP=chaos
# A shorter session makes each restart's rejoin quicker; still generous.
TEST_SESSION_OPTS="-X session.timeout.ms=3000 -X heartbeat.interval.ms=500"
harness_init
FAILED=0
pg_start
# The harness runs PostgreSQL with synchronous_commit off, which loses the
# last acknowledged commits on an immediate shutdown. Here the database
# must keep what it acknowledged, as a production one does.
psql -X -q -d postgres -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
mock_start --brokers 3 --topic events:"$PARTS" --topic events.dlq:"$DLQ_PARTS"
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/migrate.log" || fail "migrate" "$(tail -n 2 "$T/migrate.log")"
pg_reject_poison_rows

COMMON="-t events --set batch.size=$BATCH --set shutdown.timeout.ms=$SHUTDOWN_MS"
if "$BIN/shoal-consumer" --config-reference | grep -q '`llm\.url`'; then
  COMMON="$COMMON --set llm.url=$LLM_DOWN_URL"
  LLM_WIRED=1
else
  LLM_WIRED=0
  echo "NOTE llm-down: this consumer has no llm.url setting; the run is not testing the LLM fallback"
fi

# --- the stream: generated events in chunks, poison of every kind between
# them (a deterministic share of the poison per chunk).
chunk=0
gen_done=0
produce_chunk() {
  n=$(( EVENTS / CHUNKS ))
  [ $chunk = $((CHUNKS - 1)) ] && n=$(( EVENTS - gen_done ))
  produce events --generate "$n" --seed $((1000 + chunk)) 2>>"$T/producer.log" ||
    fail "produce chunk $chunk" "$(tail -n 2 "$T/producer.log")"
  /usr/bin/python3 - "$BOOTSTRAP" "$POISON" "$BIG" "$chunk" "$CHUNKS" <<'PY' 2>>"$T/poison.log" ||
import sys
from confluent_kafka import Producer
bootstrap, total, big, k, chunks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
kinds = ["json", "utf8", "nul", "empty", "schema_nosource", "schema_array", "schema_time",
         "oversize_field", "dbreject"]
def value(kind, i):
    ok = '"source":"chaos.example","published_at":"2024-10-02T10:00:00Z","text":"Body."'
    return {
        "json": b'{"id": "poison-json-%d", "title": ' % i,
        "utf8": b'{"source":"x","title":"caf\xe9 %d"}' % i,
        "nul": b'{"source":"x","title":"a\\u0000b %d"}' % i,
        "empty": b"",
        "schema_nosource": b'{"title":"no source %d"}' % i,
        "schema_array": b'[%d, 2, 3]' % i,
        "schema_time": b'{"source":"x","title":"t %d","published_at":"yesterday"}' % i,
        "oversize_field": ('{"id":"poison-oversize_field-%d",%s,"title":"%s"}' % (i, ok, "x" * 3000)).encode(),
        "dbreject": ('{"id":"poison-dbreject-%d",%s,"title":"POISON-ROW %d"}' % (i, ok, i)).encode(),
        "oversize_msg": ('{"id":"poison-oversize_msg-%d",%s,"text":"%s"}' % (i, ok, "y" * 1100000)).encode(),
    }[kind]
items = [("oversize_msg", i) for i in range(big)]
items += [(kinds[i % len(kinds)], i) for i in range(total - big)]
p = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 4000000, "linger.ms": 20})
failed = []
def on_delivery(err, msg):
    if err: failed.append(err)
for kind, i in items[k::chunks]:
    while True:
        try:
            p.produce("events", value(kind, i), key="poison-%s-%d" % (kind, i),
                      headers=[("chaos-kind", kind.encode())], on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.1)
p.flush(60)
sys.exit(1 if failed or len(p) else 0)
PY
    fail "poison chunk $chunk" "$(tail -n 2 "$T/poison.log")"
  gen_done=$((gen_done + n))
  chunk=$((chunk + 1))
}
# Keeps work waiting, so a fault lands mid-run and the consumer has
# something to show recovery with: a chunk is produced when fewer than
# BACKLOG events are unwritten. One chunk per call: a consumer faster than
# the producer would otherwise use the whole stream up in one call and
# leave nothing for the next fault. Each of the KILLS + TERMS + 8 calls has
# its chunk, and so has each step that produces its own (the database
# outage, and the last three: brokers back, last chunk, database down).
ensure_backlog() {
  if [ $chunk -lt $((CHUNKS - 3)) ] &&
     [ $((gen_done - $(psql_q "SELECT count(*) FROM events WHERE id LIKE 'gen-%'"))) -lt "$BACKLOG" ]; then
    produce_chunk
  fi
}
rows_now() { psql_q "SELECT count(*) FROM events" 2>/dev/null || echo -1; }
# A stall is reported with what the consumer was doing, on the FAIL line
# itself (CI shows those): its last log lines and its database sessions.
stalled() {
  fail "$1" "no progress $2 (rows $(rows_now), generated $gen_done, consumer alive: $(kill -0 $CONSUMER_PID 2>/dev/null && echo yes || echo no)); last log lines: $(tail -n 8 "$T/run-$run.log" | tr '\n' ' '); sessions: $(psql -X -q -t -A -d postgres -c "SELECT string_agg(concat_ws(':', application_name, state, wait_event, left(query, 60)), ' | ') FROM pg_stat_activity WHERE datname = 'shoal' AND pid <> pg_backend_pid()" 2>&1 | tr '\n' ' ')"
}
# Progress past LAST rows within S seconds by the running consumer, or
# (once the whole stream is out) everything accounted for.
wait_progress() {
  n=0
  while kill -0 $CONSUMER_PID 2>/dev/null; do
    [ "$(rows_now)" -gt "$1" ] && return 0
    [ $chunk = "$CHUNKS" ] && [ "$(psql_q "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM dead_letters)" 2>/dev/null || echo 0)" -ge $((EVENTS + POISON)) ] && return 0
    n=$((n + 1)); [ $n -gt $(($2 * 5)) ] && return 1
    sleep 0.2
  done
  return 1
}

# --- bookkeeping: every consumer run has its own log and a recorded end.
run=0
max_recovery=0
start_consumer() {
  run=$((run + 1))
  consumer_bg "$T/run-$run.log" $COMMON "$@"
}
ended() { echo "$run $1 $2" >>"$T/runs.txt"; } # how, exit status
recovered_in() { # sets el to the ms since $1; records the maximum
  el=$(( $(now_ms) - $1 ))
  [ $el -gt $max_recovery ] && max_recovery=$el
}

# --- kill -9 at random instants
kills=0
last=$(rows_now)
while [ $kills -lt "$KILLS" ]; do
  ensure_backlog
  t0=$(now_ms)
  start_consumer
  if ! wait_progress "$last" "$STALL_S"; then
    stalled "kill round $((kills + 1))" "after restart"
    break
  fi
  recovered_in "$t0"
  echo "restart after kill $kills: progress in $el ms"
  rand_sleep 1500
  if ! kill -9 $CONSUMER_PID 2>/dev/null; then
    { wait $CONSUMER_PID; } 2>/dev/null; ended exited $?
    fail "kill round $((kills + 1))" "the consumer had exited by itself"
    break
  fi
  { wait $CONSUMER_PID; } 2>/dev/null; ended kill9 $?
  kills=$((kills + 1))
  last=$(rows_now)
done
echo "kill -9 x$kills, last at $last rows"
[ $kills = "$KILLS" ] && pass "consumer killed -9 $kills times mid-run and restarted" || fail "kills" "$kills of $KILLS"

# --- SIGTERM at random instants
terms_ok=0
for term in $(seq 1 "$TERMS"); do
  ensure_backlog
  last=$(rows_now)
  start_consumer
  wait_progress "$last" "$STALL_S" || { stalled "SIGTERM round $term" "after restart"; break; }
  rand_sleep 1500
  t0=$(now_ms)
  kill -TERM $CONSUMER_PID
  { wait $CONSUMER_PID; } 2>/dev/null; rc=$?; ended term $rc
  el=$(( $(now_ms) - t0 ))
  echo "SIGTERM $term at $(rows_now) rows: exit $rc after $el ms"
  [ $rc = 0 ] && [ $el -lt "$SHUTDOWN_MS" ] && terms_ok=$((terms_ok + 1)) ||
    fail "SIGTERM $term" "exit $rc after $el ms (shutdown.timeout.ms $SHUTDOWN_MS)"
done
[ $terms_ok = "$TERMS" ] && pass "SIGTERM x$TERMS: each exit 0 within shutdown.timeout.ms" || true

# --- PostgreSQL restarted under a running consumer
ensure_backlog
last=$(rows_now)
start_consumer
wait_progress "$last" "$STALL_S" || stalled "before database restarts" "after start"
pg_ok=0
for how in immediate outage fast; do
  ensure_backlog
  rand_sleep 1000
  case $how in
    immediate) pg_restart_immediate ;;
    outage) pg_down && produce_chunk && sleep 3 && pg_up ;; # work while it is down: a retry
    fast) as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 restart -l "$PG_DIR/log" >/dev/null ;;
  esac || fail "database restart ($how)" "pg_ctl failed: $(tail -n 3 "$PG_DIR/log" | tr '\n' ' ')"
  t0=$(now_ms)
  # Work left after the fault, however much of the backlog went before it:
  # rows counted first, so what ensure_backlog then finds unwritten (or
  # produces) is beyond them.
  last=$(rows_now)
  ensure_backlog
  if wait_progress "$last" "$STALL_S"; then
    pg_ok=$((pg_ok + 1))
    recovered_in "$t0"
    echo "database restart ($how) at $last rows: progress again in $el ms"
  else
    stalled "database restart ($how)" "afterwards"
  fi
done
[ $pg_ok = 3 ] && pass "3 database restarts survived (immediate, outage, fast)" || true
grep -q 'batch not persisted; pausing and retrying' "$T/run-$run.log" &&
  pass "database outages were retried" || fail "outage retries" "no retry logged in run-$run.log"

# --- every broker down
ensure_backlog
rand_sleep 1000
mock_cmd all down >/dev/null || fail "broker down" "mock did not answer"
sleep "$BROKER_DOWN_S"
kill -0 $CONSUMER_PID 2>/dev/null && pass "consumer survived ${BROKER_DOWN_S} s with every broker down" ||
  fail "broker down" "the consumer exited"
mock_cmd all up >/dev/null || fail "broker up" "mock did not answer"
t0=$(now_ms)
# Work left once the brokers are back, however much the consumer had
# prefetched before they went down.
last=$(rows_now)
produce_chunk
if wait_progress "$last" "$STALL_S"; then
  recovered_in "$t0"
  pass "resumed after the brokers came back ($el ms)"
else
  stalled "broker up" "afterwards"
fi

# --- the group lost while a batch is being retried: the database is down
# (partitions paused), then every broker for longer than the session, so
# the partitions are lost paused and come back in a new assignment.
# Waits up to S seconds for PATTERN to appear in the running consumer's log
# more often than N times.
log_more() { wait_for "$3" sh -c "[ \$(grep -c '$1' '$T/run-$run.log') -gt $2 ]"; }
retries=$(grep -c 'batch not persisted' "$T/run-$run.log")
losses=$(grep -c '"msg":"partition lost"' "$T/run-$run.log")
last=$(rows_now)
produce_chunk
wait_progress "$last" "$STALL_S" || stalled "last chunk" "on it"
last=$(rows_now)
pg_down
# Something to write while the database is down, however far the consumer
# had got with the chunk before.
[ $chunk -lt "$CHUNKS" ] && produce_chunk
log_more 'batch not persisted' "$retries" 60 || fail "paused retry" "no retry logged with the database down"
mock_cmd all down >/dev/null
log_more '"msg":"partition lost"' "$losses" 60 || fail "paused retry" "partitions were not lost"
mock_cmd all up >/dev/null
pg_up
t0=$(now_ms)
if wait_progress "$last" "$STALL_S"; then
  recovered_in "$t0"
  pass "partitions lost while paused are fetched again after reassignment ($el ms)"
else
  stalled "lost while paused" "after the database and brokers came back"
fi

# --- the rest of the stream, then a clean stop and a final drain
while [ $chunk -lt "$CHUNKS" ]; do produce_chunk; done
wait_for 900 sh -c "[ \"\$(psql -X -t -A -d shoal -c 'SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM dead_letters)')\" -ge $((EVENTS + POISON)) ]" ||
  fail "catch up" "$(rows_now) rows, $(psql_q 'SELECT count(*) FROM dead_letters') dead letters"
if kill -TERM $CONSUMER_PID 2>/dev/null; then
  { wait $CONSUMER_PID; } 2>/dev/null; rc=$?; ended term $rc
  [ $rc = 0 ] || fail "final SIGTERM" "exit $rc"
else
  { wait $CONSUMER_PID; } 2>/dev/null; ended exited $?
  fail "consumer" "exited by itself during the run"
fi
run=$((run + 1))
eval "$(consumer_cmd) $COMMON --drain" 2>"$T/run-$run.log"
rc=$?; ended drain $rc
[ $rc = 0 ] && pass "final drain exits 0" || fail "final drain" "exit $rc"

# --- figures and checks
rows=$(psql_q "SELECT count(*) FROM events")
gen=$(psql_q "SELECT count(DISTINCT id) FROM events WHERE id LIKE 'gen-%'")
dups=$(( rows - $(psql_q "SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM events") ))
[ "$rows" = "$EVENTS" ] && [ "$gen" = "$EVENTS" ] && [ $dups = 0 ] &&
  pass "rows equal the $EVENTS distinct events, no duplicates" || fail "rows" "$rows rows, $gen distinct generated, $dups duplicates"
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dead" = "$POISON" ] && pass "dead_letters has exactly the $POISON poison messages" || fail "dead letters" "$dead of $POISON"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE topic = 'events' AND consumer_group = '$GROUP'")
[ "$stored" = "$ends" ] && [ "$ends" = $((EVENTS + POISON)) ] && pass "kafka_offsets equal the end offsets ($ends)" ||
  fail "offsets" "stored $stored, end $ends, produced $((EVENTS + POISON))"
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' && pass "the mock kept every message (no partition over its size cap)" || fail "mock retention" "raise CHAOS_PARTITIONS"
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "shoal-probe"})
lost = 0
for t in ("events", "events.dlq"):
    for p in c.list_topics(t, timeout=10).topics[t].partitions:
        lost += c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[0]
c.close()
sys.exit(1 if lost else 0)
PY

if [ $LLM_WIRED = 1 ]; then
  noext=$(psql_q "SELECT count(*) FROM events WHERE extraction IS NULL OR extracted_by IS DISTINCT FROM 'builtin'")
  [ "$noext" = 0 ] && pass "LLM down all run: every event stored through the built-in fallback" ||
    fail "llm fallback" "$noext rows not extracted by the fallback"
fi

# Dead letters read back with kcat: one per poison message, each with its
# class, stage, original header and every shoal.* header.
kcat -b "$BOOTSTRAP" -C -t events.dlq -e -q -X fetch.message.max.bytes=2000000 \
  -f '@@LETTER@@%k\t%h\n' >"$T/dlq.txt" 2>"$T/kcat.log" || fail "kcat" "$(tail -n 2 "$T/kcat.log")"
dlq_figures=$(/usr/bin/python3 - "$T/dlq.txt" "$POISON" "$BIG" "$GROUP" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
total, big, group = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
expect = {"json": ("invalid_json", "decode"), "utf8": ("invalid_utf8", "decode"), "nul": ("invalid_utf8", "decode"),
          "empty": ("empty", "decode"), "schema_nosource": ("schema", "validate"), "schema_array": ("schema", "validate"),
          "schema_time": ("schema", "validate"), "oversize_field": ("oversize", "validate"),
          "oversize_msg": ("oversize", "validate"), "dbreject": ("db_rejected", "persist")}
need = ["shoal.error.class", "shoal.error.stage", "shoal.error.message", "shoal.original.topic",
        "shoal.original.partition", "shoal.original.offset", "shoal.original.timestamp",
        "shoal.consumer.group", "shoal.attempts", "shoal.failed.at", "shoal.host", "shoal.version"]
bad, keys, coords, n = [], set(), set(), 0
for rec in text.split("@@LETTER@@")[1:]:
    n += 1
    key, _, hs = rec.rstrip("\n").partition("\t")
    h = {}
    for part in re.split(r",(?=(?:shoal\.[a-z.]+|chaos-kind)=)", hs):
        k, _, v = part.partition("=")
        h[k] = v
    m = re.fullmatch(r"poison-([a-z0-9_]+)-(\d+)", key)
    kind = m.group(1) if m else None
    problems = [x for x in need if x not in h]
    if kind not in expect: problems.append("not a poison key")
    elif (h.get("shoal.error.class"), h.get("shoal.error.stage")) != expect[kind]:
        problems.append("class/stage %s/%s" % (h.get("shoal.error.class"), h.get("shoal.error.stage")))
    if kind and h.get("chaos-kind") != kind: problems.append("original header lost")
    if h.get("shoal.original.topic") != "events" or h.get("shoal.consumer.group") != group: problems.append("origin")
    if kind == "oversize_msg" and h.get("shoal.truncated") != "true": problems.append("not marked truncated")
    if problems: bad.append("%s: %s" % (key, ", ".join(problems)))
    keys.add(key)
    coords.add((h.get("shoal.original.partition"), h.get("shoal.original.offset")))
kinds = {re.sub(r"^poison-|-\d+$", "", k) for k in keys}
mixed = [k for k in expect if k != "oversize_msg"]
want_kinds = {mixed[i % len(mixed)] for i in range(total - big)} | ({"oversize_msg"} if big else set())
ok = not bad and len(keys) == total and len(coords) == total and kinds == want_kinds
print("%d %d %d" % (n, len(keys), n - len(coords)))
for b in bad[:10]: print("BAD " + b, file=sys.stderr)
if not ok: print("letters %d, distinct keys %d, distinct origins %d of %d; kinds %s" % (n, len(keys), len(coords), total, sorted(kinds)), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
) && pass "kcat: every poison message dead-lettered, with correct headers; no event dead-lettered by an outage" ||
  fail "dlq topic" "$(echo "$dlq_figures")"
set -- $dlq_figures
dlq_letters=${1:-?}; dlq_resent=${3:-?}

# Every exit logged its reason: every run that was not killed -9 has exactly
# one "exiting" line with a reason, and no run logged a fatal error.
unexplained=""
while read -r r how st; do
  n=$(grep -c '"msg":"exiting","reason":"[^"]' "$T/run-$r.log")
  case $how in
    kill9) [ "$n" = 0 ] && [ "$st" = 137 ] || unexplained="$unexplained $r:$how:$st:$n" ;;
    *) [ "$n" = 1 ] || unexplained="$unexplained $r:$how:$st:$n" ;;
  esac
done <"$T/runs.txt"
[ -z "$unexplained" ] && [ "$(wc -l <"$T/runs.txt")" = "$run" ] && pass "every one of $run consumer exits logged its reason" ||
  fail "exit reasons" "runs (run:how:status:reasons):$unexplained"
fatal=$(cat "$T"/run-*.log | grep -c '"level":"fatal"')
[ "$fatal" = 0 ] && pass "no fatal error logged" || fail "fatal" "$(cat "$T"/run-*.log | grep '"level":"fatal"' | head -n 3)"
! grep -q '"level":"error"' "$T/producer.log" && grep -c '"msg":"exiting","reason":"' "$T/producer.log" | grep -qx "$CHUNKS" &&
  grep -q '"msg":"exiting","reason":"migrate done"' "$T/migrate.log" &&
  pass "every producer and migrate exit logged its reason" || fail "producer/migrate exits" "$(tail -n 3 "$T/producer.log" "$T/migrate.log")"

echo "chaos figures: events $EVENTS, poison $POISON, kills survived $kills, SIGTERMs $terms_ok," \
  "database restarts $pg_ok, broker outage ${BROKER_DOWN_S} s, rows $rows, duplicates $dups," \
  "dead letters $dead (topic: $dlq_letters letters, $dlq_resent re-sent after a kill), max recovery ${max_recovery} ms"
exit $FAILED
