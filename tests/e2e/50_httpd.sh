# HTTP endpoint and systemd notification on the real consumer: /metrics is
# scraped and parsed as Prometheus text format, /healthz follows the main
# loop, /readyz follows assignment and database reachability (a PostgreSQL
# outage turns it 503, recovery back to 200), /trends serves JSON, and
# READY=1 / WATCHDOG=1 / STOPPING=1 reach NOTIFY_SOCKET.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start

# A NOTIFY_SOCKET listener standing in for systemd: one line per datagram.
NOTIFY_SOCKET="$T/notify.sock"
/usr/bin/python3 - "$NOTIFY_SOCKET" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
PY
harness_track $!
wait_for 10 test -S "$NOTIFY_SOCKET" || fail "notify listener" "no socket"
export NOTIFY_SOCKET WATCHDOG_USEC=1000000

produce events tests/data/demo.jsonl 2>"$T/p.log" || fail "produce" "demo corpus"
printf '{"id": broken\n' >"$T/bad.jsonl"
kcat -P -b "$BOOTSTRAP" -t events -k bad-1 "$T/bad.jsonl" 2>/dev/null

consumer_bg "$T/c.log" -t events --set http.listen=127.0.0.1:0 --set trend.refresh.ms=1000 \
  --set http.health.max.age.ms=5000 --set retry.backoff.max.ms=1000
wait_for 30 grep -q '"msg":"HTTP endpoint listening"' "$T/c.log" || fail "listening" "$(tail -n 3 "$T/c.log")"
PORT=$(grep -o '"msg":"HTTP endpoint listening".*"port":"[0-9]*"' "$T/c.log" | grep -o '[0-9]*"$' | tr -d '"')
URL="http://127.0.0.1:$PORT"
echo "endpoint $URL"

# get PATH [METHOD]: prints "STATUS BODY".
get() {
  /usr/bin/python3 - "$URL$1" "${2:-GET}" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], method=sys.argv[2])
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
status() { get "$@" | cut -d' ' -f1; }

wait_for 60 sh -c "[ \"\$(psql -X -q -t -A -d shoal -c 'SELECT count(*) FROM events')\" = 247 ]" ||
  fail "persisted" "not all events stored"
code=""
for i in $(seq 1 60); do code=$(status /readyz); [ "$code" = 200 ] && break; sleep 0.5; done
[ "$code" = 200 ] && pass "/readyz is 200 once partitions are assigned and the database answers" || fail "/readyz" "$(get /readyz)"
[ "$(status /healthz)" = 200 ] && pass "/healthz is 200 while the loop turns" || fail "/healthz" "$(get /healthz)"
[ "$(status /nope)" = 404 ] && pass "unknown path is 404" || fail "404" "$(status /nope)"
[ "$(status /metrics POST)" = 405 ] && pass "POST is 405" || fail "405" "$(status /metrics POST)"

# Lag comes from librdkafka statistics (every 5 s by default).
sleep 6
get /metrics | sed '1s/^[0-9]* //' >"$T/metrics.txt"
/usr/bin/python3 - "$T/metrics.txt" <<'PY' || fail "metrics check" "the checker crashed"
import re, sys
text = open(sys.argv[1]).read()
# Text exposition format 0.0.4: HELP and TYPE per family, then samples.
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
types, series, bad = {}, {}, []
for line in text.splitlines():
    if not line or line.startswith("# HELP "):
        continue
    if line.startswith("# TYPE "):
        _, _, name, t = line.split(" ", 3)
        types[name] = t
        continue
    m = sample.match(line)
    if not m:
        bad.append(line)
        continue
    series[(m.group(1), m.group(3) or "")] = float(m.group(5))
def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
def val(name, labels=""):
    return series.get((name, labels))
check("every /metrics line parses as exposition format", not bad and series, bad[:3])
check("each sample belongs to a TYPEd family",
      all(n in types or re.sub(r'_(bucket|sum|count)$', '', n) in types for n, _ in series))
check("events consumed counted (247 events + 1 poison)", val("shoal_events_consumed_total") == 248, val("shoal_events_consumed_total"))
check("events persisted counted", val("shoal_events_persisted_total") == 247, val("shoal_events_persisted_total"))
check("dead letters counted by class", val("shoal_events_dead_lettered_total", 'class="invalid_json"') == 1,
      [k for k in series if k[0] == "shoal_events_dead_lettered_total"])
check("types: counter, gauge, histogram", types.get("shoal_events_persisted_total") == "counter" and
      types.get("shoal_assigned_partitions") == "gauge" and types.get("shoal_batch_duration_seconds") == "histogram", types)
inf = val("shoal_batch_duration_seconds_bucket", 'le="+Inf"')
check("batch histogram: +Inf bucket equals _count, and it observed batches",
      inf is not None and inf == val("shoal_batch_duration_seconds_count") and inf >= 1, (inf, val("shoal_batch_duration_seconds_count")))
buckets = sorted((float(l.split('"')[1]) if "+Inf" not in l else float("inf"), v)
                 for (n, l), v in series.items() if n == "shoal_batch_duration_seconds_bucket")
check("histogram buckets are cumulative", all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets)
check("PostgreSQL commit latency observed", (val("shoal_pg_commit_duration_seconds_count") or 0) >= 1)
check("three partitions assigned", val("shoal_assigned_partitions") == 3, val("shoal_assigned_partitions"))
check("rebalances counted", (val("shoal_rebalances_total") or 0) >= 1)
lag = {l: v for (n, l), v in series.items() if n == "shoal_consumer_lag"}
check("consumer lag per partition from librdkafka statistics, caught up",
      len(lag) == 3 and all(v == 0 for v in lag.values()), lag)
check("heartbeat and start time are set", (val("shoal_main_loop_heartbeat_timestamp_seconds") or 0) > 1.7e9 and
      (val("process_start_time_seconds") or 0) > 1.7e9)
PY

wait_for 30 sh -c "grep -q '\"msg\":\"trends updated\"' '$T/c.log'"
get /trends >"$T/trends.txt"
/usr/bin/python3 - "$T/trends.txt" <<'PY' || fail "trends check" "the checker crashed"
import json, sys
status, body = open(sys.argv[1]).read().split(" ", 1)
ok = status == "200"
try:
    trends = json.loads(body)
except ValueError:
    trends = None
ok = ok and isinstance(trends, list) and any(t["key"].startswith("ai") or "AI" in t["title"] for t in trends)
print(("PASS" if ok else "FAIL") + " /trends serves the stored trends as JSON" + ("" if ok else ": " + body[:200]))
PY

# A PostgreSQL outage: new events cannot be persisted, the batch retries,
# /readyz turns 503 while /healthz stays 200 (the loop is alive), and both
# recover by themselves.
pg_down
produce events --generate 20 --seed 7 2>>"$T/p.log"
code=""
for i in $(seq 1 60); do code=$(status /readyz); [ "$code" = 503 ] && break; sleep 0.5; done
[ "$code" = 503 ] && pass "/readyz is 503 while PostgreSQL is down" || fail "/readyz during outage" "$code"
get /readyz | grep -q 'false' && pass "/readyz says which condition is false" || fail "readyz body" "$(get /readyz)"
[ "$(status /healthz)" = 200 ] && pass "/healthz stays 200 during the outage" || fail "/healthz during outage" "$(get /healthz)"
pg_up
code=""
for i in $(seq 1 120); do code=$(status /readyz); [ "$code" = 200 ] && break; sleep 0.5; done
[ "$code" = 200 ] && pass "/readyz back to 200 after recovery" || fail "/readyz after recovery" "$code"
# Ready again once a batch commits; the outage's events may span several.
wait_for 60 sh -c "[ \"\$(psql -X -q -t -A -d shoal -c 'SELECT count(*) FROM events')\" = 267 ]" &&
  pass "events of the outage stored" || fail "outage events" "$(psql_q 'SELECT count(*) FROM events')"
m=$(get /metrics)
echo "$m" | grep -Eq '^shoal_batch_retries_total [1-9]' && pass "retries counted" || fail "retries" "$(echo "$m" | grep retries)"
echo "$m" | grep -Eq '^shoal_pg_errors_total\{sqlstate_class="[0-9A-Z]{2}|none"\} [1-9]' &&
  pass "PostgreSQL errors counted by SQLSTATE class" || fail "pg errors" "$(echo "$m" | grep pg_errors)"

kill -TERM "$CONSUMER_PID"
wait "$CONSUMER_PID"
rc=$?
[ $rc = 0 ] && pass "SIGTERM: exit 0" || fail "exit" "$rc"
sleep 0.5
grep -qx 'READY=1' "$T/notify.log" && pass "READY=1 sent to NOTIFY_SOCKET" || fail "READY" "$(cat "$T/notify.log")"
[ "$(grep -cx 'WATCHDOG=1' "$T/notify.log")" -ge 3 ] && pass "WATCHDOG=1 sent every half WATCHDOG_USEC" ||
  fail "WATCHDOG" "$(grep -cx 'WATCHDOG=1' "$T/notify.log")"
[ "$(tail -n 1 "$T/notify.log")" = "STOPPING=1" ] && pass "STOPPING=1 is the last notification" || fail "STOPPING" "$(tail -n 2 "$T/notify.log")"
[ "$(head -n 1 "$T/notify.log")" = "READY=1" ] && pass "nothing before READY=1" || fail "order" "$(head -n 2 "$T/notify.log")"
exit $FAILED
