# shoal-producer crawl against a local fake site (tests/support/fake_site.py)
# and the mock cluster, read back with kcat: exactly the new items are
# published, ids are stable across re-crawls, restarts and a lost state
# file; 304s are honoured; slow, huge, malformed, redirect-loop and 429
# sources fail within their bounds while the good ones still publish;
# Retry-After and the per-host delay are respected; SIGTERM stops the crawl
# within the shutdown timeout; --once exits 7 when a source failed.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
mock_start --brokers 1 --topic events:3 --topic events2:3 --topic loop:1 --topic acked:1

/usr/bin/python3 tests/support/fake_site.py >"$T/site.port" 2>"$T/site.log" &
harness_track $!
wait_for 20 test -s "$T/site.port" || { fail "fake site" "did not start"; exit 1; }
SITE="http://127.0.0.1:$(head -n 1 "$T/site.port")"
control() { curl -s -m 10 -X POST -d "$1" "$SITE/control" >/dev/null; }
control '{"items": 3}'

cat >"$T/good.txt" <<SRC
# good sources: RSS 2.0, Atom, GitHub-style events
$SITE/rss      fakenews   world,tech
$SITE/atom     fakeatom
$SITE/events.json github.com github
SRC
cat "$T/good.txt" >"$T/all.txt"
cat >>"$T/all.txt" <<SRC
$SITE/malformed broken
$SITE/loop      loopy
$SITE/huge      huge
$SITE/slow      slow
$SITE/429       limited
SRC

# Every request is bounded: 3 s total per transfer, 1 MB body.
CRAWL="$BIN/shoal-producer crawl -b $BOOTSTRAP --host-delay-ms 300 --timeout-ms 3000 --connect-timeout-ms 2000 --max-body 1000000"
keys() { kcat -b "$BOOTSTRAP" -C -t "$1" -e -q -f '%k\n' 2>>"$T/kcat.log" | sort; }
field() { sed -n "s/.*\"msg\":\"crawl cycle\".*\"$1\":\"\([0-9]*\)\".*/\1/p" "$2" | tail -n 1; }

# 0. Usage errors exit 2 before anything is fetched.
$CRAWL -t events 2>"$T/u1.log"; r1=$?
printf 'file:///etc/passwd\n' >"$T/bad-src.txt"
$CRAWL -t events --sources "$T/bad-src.txt" 2>"$T/u2.log"; r2=$?
echo "not a state file" >"$T/bad-state"
$CRAWL -t events --sources "$T/good.txt" --state "$T/bad-state" --once 2>"$T/u3.log"; r3=$?
[ "$r1:$r2:$r3" = 2:2:2 ] && grep -q 'sources FILE is required' "$T/u1.log" && grep -q 'not an http(s) URL' "$T/u2.log" &&
  grep -q 'not a crawl state file' "$T/u3.log" && pass "missing --sources, a file:// source, a foreign state file: exit 2" ||
  fail "usage errors" "$r1:$r2:$r3"
"$BIN/shoal-producer" crawl --help | grep -q -- '--sources FILE' && pass "crawl --help" || fail "crawl --help" "no usage"

# 1. First crawl of every source.
start=$(date +%s)
timeout 120 $CRAWL -t events --sources "$T/all.txt" --state "$T/state" --once 2>"$T/c1.log"
rc=$?
[ $rc = 7 ] && pass "--once exits 7 when sources failed" || fail "--once exit code" "rc=$rc"
[ $(( $(date +%s) - start )) -lt 100 ] && pass "a cycle with slow/huge/looping sources is bounded" ||
  fail "bounded cycle" "took $(( $(date +%s) - start ))s"
[ "$(field polled "$T/c1.log")" = 8 ] && [ "$(field new "$T/c1.log")" = 9 ] &&
  [ "$(field failed "$T/c1.log")" = 5 ] && pass "summary: 8 polled, 9 new, 5 failed" ||
  fail "summary 1" "$(grep 'crawl cycle' "$T/c1.log")"
for s in malformed:bad_feed loop:redirects huge:too_large slow:timeout 429:retry_later; do
  grep -q "\"url\":\"$SITE/${s%%:*}\",\"status\":\"${s#*:}\"" "$T/c1.log" &&
    pass "/${s%%:*} fails as ${s#*:}" || fail "/${s%%:*}" "no ${s#*:} failure logged"
done
keys events >"$T/k1"
[ "$(wc -l <"$T/k1")" = 9 ] && [ "$(uniq "$T/k1" | wc -l)" = 9 ] &&
  pass "good sources published their 9 items while 5 sources failed" || fail "run 1 items" "$(cat "$T/k1")"

# Every published message is a valid event whose key is its id.
kcat -b "$BOOTSTRAP" -C -t events -e -q -f '%k\t%s\n' >"$T/m1" 2>>"$T/kcat.log"
/usr/bin/python3 - "$T/m1" <<'PY'
import json, sys
bad = []
kinds = {}
for line in open(sys.argv[1], encoding="utf-8"):
    k, v = line.rstrip("\n").split("\t", 1)
    e = json.loads(v)
    kinds[e.get("kind")] = kinds.get(e.get("kind"), 0) + 1
    if e.get("id") != k or not e.get("source") or not e.get("crawled_at"):
        bad.append(k)
    if e["kind"] == "repo_event" and not isinstance(e.get("repo"), dict):
        bad.append(k)
ok = not bad and kinds == {"article": 6, "repo_event": 3}
print(("PASS" if ok else "FAIL") + " events carry id = key, 6 articles and 3 repo_events"
      + ("" if ok else ": %s %s" % (bad, kinds)))
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] || FAILED=1

# 2. Restart after the feeds grew: exactly the 6 new items.
control '{"items": 5}'
timeout 120 $CRAWL -t events --sources "$T/good.txt" --state "$T/state" --once 2>"$T/c2.log"
rc=$?
[ $rc = 0 ] && pass "--once exits 0 when every source succeeded" || fail "run 2 exit" "rc=$rc"
[ "$(field new "$T/c2.log")" = 6 ] && pass "restart publishes only the 6 new items" ||
  fail "run 2 new" "$(grep 'crawl cycle' "$T/c2.log")"
keys events >"$T/k2"
[ "$(wc -l <"$T/k2")" = 15 ] && [ "$(uniq "$T/k2" | wc -l)" = 15 ] &&
  pass "topic holds 15 distinct items, none twice" || fail "run 2 keys" "$(uniq -c "$T/k2" | sort -rn | head -3)"
[ -z "$(comm -23 "$T/k1" "$T/k2")" ] && pass "first-crawl ids unchanged after restart" ||
  fail "stable ids" "$(comm -23 "$T/k1" "$T/k2")"

# 3. Nothing changed: the feeds with validators answer 304.
before=$(curl -s -m 10 "$SITE/stats")
timeout 120 $CRAWL -t events --sources "$T/good.txt" --state "$T/state" --once 2>"$T/c3.log"
[ "$(field new "$T/c3.log")" = 0 ] && [ "$(field not_modified "$T/c3.log")" = 2 ] &&
  pass "unchanged feeds: 2 not modified, 0 new" || fail "run 3" "$(grep 'crawl cycle' "$T/c3.log")"
n304=$(curl -s -m 10 "$SITE/stats" | /usr/bin/python3 -c '
import json, sys; r = json.load(sys.stdin)["requests"]
print(sum(1 for p, t, s in r if s == 304 and p in ("/rss", "/atom")))')
[ "$n304" = 2 ] && pass "the site answered 304 to the conditional GETs" || fail "304s" "$n304 ($before)"
[ "$(keys events | wc -l)" = 15 ] && pass "no republication on a re-crawl" || fail "run 3 keys" "$(keys events | wc -l)"

# 4. The state file lost: the same items get the same ids.
timeout 120 $CRAWL -t events2 --sources "$T/good.txt" --state "$T/state2" --once 2>"$T/c4.log"
keys events2 >"$T/k4"
cmp -s "$T/k2" "$T/k4" && pass "ids derived again from scratch are identical" ||
  fail "ids from scratch" "$(diff "$T/k2" "$T/k4" | head -5)"

# 5. Long-running: Retry-After, per-host delay, SIGTERM during a slow fetch.
cat >"$T/loop.txt" <<SRC
$SITE/rss fakenews
$SITE/429 limited
$SITE/slow slow
SRC
t0=$(curl -s -m 10 "$SITE/stats" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')
$CRAWL -t loop --sources "$T/loop.txt" --state "$T/state3" --interval 1 --set shutdown.timeout.ms=8000 2>"$T/c5.log" &
CPID=$!
harness_track $CPID
sleep 12
kill -TERM $CPID
sent=$(now_ms)
wait_for 30 sh -c "! kill -0 $CPID" && stopped=$(now_ms)
wait $CPID
rc=$?
[ $rc = 0 ] && pass "SIGTERM: clean exit 0" || fail "SIGTERM exit" "rc=$rc"
[ -n "${stopped:-}" ] && [ $((stopped - sent)) -lt 8000 ] && pass "SIGTERM honoured within the shutdown timeout" ||
  fail "SIGTERM bound" "$(( ${stopped:-999999} - sent )) ms"
grep -q '"msg":"crawl cycle"' "$T/c5.log" && pass "a summary per cycle on stderr" || fail "cycle summary" "none"
grep -q '"msg":"source backs off","source":"slow".*"consecutive_failures":"2"' "$T/c5.log" &&
  ! grep -q '"msg":"source backs off","source":"fakenews"' "$T/c5.log" &&
  pass "the failing source backs off on its own, the good one does not" || fail "back-off" "$(grep 'backs off' "$T/c5.log" | tail -3)"
curl -s -m 10 "$SITE/stats" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)["requests"][int(sys.argv[1]):]
t429 = [t for p, t, s in r if p == "/429"]
gaps = [b - a for a, b in zip(t429, t429[1:])]
ok = len(t429) >= 2 and all(g >= 2.9 for g in gaps)
print(("PASS" if ok else "FAIL") + " Retry-After: 3 honoured between polls of /429" + ("" if ok else ": %s" % t429))
times = sorted(t for p, t, s in r if p in ("/rss", "/429", "/slow"))
hgaps = [b - a for a, b in zip(times, times[1:])]
ok2 = len(times) >= 4 and all(g >= 0.28 for g in hgaps)
print(("PASS" if ok2 else "FAIL") + " requests to one host at least --host-delay-ms apart" + ("" if ok2 else ": %s" % hgaps))
rss = [s for p, t, s in r if p == "/rss"]
ok3 = len(rss) >= 2 and rss[0] == 200 and all(s == 304 for s in rss[1:])
print(("PASS" if ok3 else "FAIL") + " polling loop: 200 once, then 304s" + ("" if ok3 else ": %s" % rss))
sys.exit(0 if ok and ok2 and ok3 else 1)
' "$t0" || FAILED=1
[ "$(keys loop | wc -l)" = 5 ] && pass "loop run published the 5 feed items once" || fail "loop keys" "$(keys loop | wc -l)"

# 6. SIGTERM while a transfer hangs: the fetch is cancelled, not waited out.
echo "$SITE/slow slow" >"$T/slow.txt"
$CRAWL -t loop --sources "$T/slow.txt" --state "$T/state4" --timeout-ms 60000 --set shutdown.timeout.ms=8000 2>"$T/c6.log" &
CPID=$!
harness_track $CPID
wait_for 30 grep -q '"crawl starting"' "$T/c6.log"
sleep 2
kill -TERM $CPID
sent=$(now_ms)
stopped=""
wait_for 30 sh -c "! kill -0 $CPID" && stopped=$(now_ms)
wait $CPID
rc=$?
[ $rc = 0 ] && [ -n "$stopped" ] && [ $((stopped - sent)) -lt 8000 ] &&
  pass "SIGTERM during a hanging fetch: exit 0 within the shutdown timeout" ||
  fail "SIGTERM hanging fetch" "rc=$rc after $(( ${stopped:-999999} - sent )) ms"

# 7. Delivery is checked: refused by the broker, nothing is recorded as
# published, and the next run publishes it all.
mock_cmd "error Produce TOPIC_AUTHORIZATION_FAILED 100" >/dev/null
timeout 120 $CRAWL -t acked --sources "$T/good.txt" --state "$T/state5" --once 2>"$T/c7.log"
rc=$?
mock_cmd "clear" >/dev/null
[ $rc = 7 ] && grep -q '"status":"not_delivered"' "$T/c7.log" && [ "$(field new "$T/c7.log")" = 0 ] &&
  pass "refused delivery: exit 7, nothing counted as published" || fail "refused delivery" "rc=$rc $(grep 'crawl cycle' "$T/c7.log")"
timeout 120 $CRAWL -t acked --sources "$T/good.txt" --state "$T/state5" --once 2>"$T/c8.log"
rc=$?
[ $rc = 0 ] && [ "$(field new "$T/c8.log")" = 15 ] && [ "$(keys acked | uniq | wc -l)" = 15 ] && [ "$(keys acked | wc -l)" = 15 ] &&
  pass "after the broker recovers every item is published" || fail "after recovery" "rc=$rc $(grep 'crawl cycle' "$T/c8.log")"

exit $FAILED
