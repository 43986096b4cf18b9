# Settings: sources in priority order (defaults < file < SHOAL_* environment
# < flags), file:line for an unknown key, warnings and defaults for empty or
# bad optional values, a setting that cannot work stops startup naming it,
# and both log formats (JSON lines, logfmt), one line per record.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
C="$BIN/shoal-consumer"
dumped() { grep "^$1 = " "$T/dump.txt" | sed 's/  #.*//; s/^[^=]*= //'; }

printf 'batch.size = 10\nretry.backoff.ms = 300\n' >"$T/a.conf"
"$C" --config "$T/a.conf" --dump-config >"$T/dump.txt" 2>/dev/null
[ "$(dumped batch.size)" = 10 ] && pass "the config file overrides a default" || fail "file" "$(dumped batch.size)"
SHOAL_BATCH_SIZE=20 "$C" --config "$T/a.conf" --dump-config >"$T/dump.txt" 2>/dev/null
[ "$(dumped batch.size)" = 20 ] && [ "$(dumped retry.backoff.ms)" = 300 ] && pass "SHOAL_* overrides the file, leaving the rest" ||
  fail "env" "$(dumped batch.size) $(dumped retry.backoff.ms)"
SHOAL_BATCH_SIZE=20 "$C" --config "$T/a.conf" --set batch.size=30 --dump-config >"$T/dump.txt" 2>/dev/null
[ "$(dumped batch.size)" = 30 ] && pass "a flag overrides the environment" || fail "flag" "$(dumped batch.size)"
grep -q '^batch.size = 30  # flag' "$T/dump.txt" && pass "--dump-config says where each value came from" || fail "origin" "$(grep batch.size "$T/dump.txt")"

printf 'batch.size = 10\n# a comment\nbatch.sise = 5\n' >"$T/b.conf"
"$C" --config "$T/b.conf" --dump-config >/dev/null 2>"$T/b.log"
rc=$?
[ $rc = 2 ] && grep -q "b.conf:3: unknown setting" "$T/b.log" && pass "unknown key: exit 2 with file:line" ||
  fail "unknown key" "exit $rc: $(cat "$T/b.log")"

"$C" --set batch.size= --set retry.backoff.ms=abc --dump-config >"$T/dump.txt" 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && [ "$(dumped batch.size)" = 2000 ] && [ "$(dumped retry.backoff.ms)" = 200 ] &&
  grep -q '"msg":"empty setting ignored, using the default","setting":"batch.size"' "$T/c.log" &&
  grep -q '"msg":"bad setting ignored, keeping the previous value","setting":"retry.backoff.ms"' "$T/c.log" &&
  pass "empty and bad optional values warn and fall back" || fail "fallback" "exit $rc: $(cat "$T/c.log")"

"$C" -b 127.0.0.1:1 -X no.such.property=1 --db "host=/nonexistent" --set startup.timeout.ms=30000 2>"$T/d.log"
rc=$?
[ $rc = 2 ] && grep -q 'no.such.property' "$T/d.log" && pass "a Kafka property that cannot work: exit 2 naming it" ||
  fail "bad -X" "exit $rc: $(tail -n 1 "$T/d.log")"
"$C" -b 127.0.0.1:1 --db "host=/nonexistent" --set startup.timeout.ms=1000 2>"$T/e.log"
rc=$?
[ $rc = 3 ] && grep -q '"reason":"database not reachable within startup.timeout.ms (setting db)"' "$T/e.log" &&
  pass "an unreachable database: exit 3 naming the setting" || fail "db" "exit $rc: $(tail -n 1 "$T/e.log")"
"$C" -X topic.auto.offset.reset=latest --dump-config >"$T/dump.txt" 2>"$T/f.log"
[ $? = 0 ] && grep -q 'topic.auto.offset.reset' "$T/dump.txt" && pass "-X passes topic.-prefixed properties" || fail "-X topic." "$(cat "$T/f.log")"

/usr/bin/python3 - "$T/e.log" <<'PY' || fail "json lines" "not every line is a JSON object with ts, level, msg"
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("NOTICE:"):
        continue
    d = json.loads(line)
    assert {"ts", "level", "msg"} <= d.keys(), line
print("PASS every log line is one JSON object with ts, level and msg")
PY
"$C" -b 127.0.0.1:1 --db "host=/nonexistent" --set startup.timeout.ms=1000 --set log.format=logfmt 2>"$T/g.log"
grep -Eq '^ts=[0-9T:.-]+Z level=error component=consumer msg=exiting reason="database not reachable' "$T/g.log" &&
  pass "log.format=logfmt writes logfmt lines" || fail "logfmt" "$(tail -n 1 "$T/g.log")"
exit $FAILED
