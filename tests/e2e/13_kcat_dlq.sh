# Foundation: events produced by kcat (an independent client) are consumed;
# invalid messages land in the dead-letter topic with their original key,
# value and headers plus shoal.* headers, read back with kcat; the consumer
# never dies because of a message.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 3 --topic events:3 --topic events.dlq:1

head -n 50 tests/data/demo.jsonl >"$T/good.jsonl"
kcat -b "$BOOTSTRAP" -P -t events -H "origin=kcat" -l "$T/good.jsonl" 2>"$T/kcat.log" &&
  pass "kcat produced 50 events" || fail "kcat produce" "$(cat "$T/kcat.log")"

# Poison: one per line, keyed "bad-N" with a trace header, each a different class.
printf 'bad-1\tnot json at all\n' >"$T/bad.txt"
printf 'bad-2\t{"title":"no source"}\n' >>"$T/bad.txt"
printf 'bad-3\t{"source":"x","title":"caf\351"}\n' >>"$T/bad.txt"
printf 'bad-4\t{"source":"x","title":"t","published_at":"yesterday"}\n' >>"$T/bad.txt"
printf 'bad-5\t[1,2,3]\n' >>"$T/bad.txt"
printf 'bad-6\t{"source":"x","title":"a","title":"b"}\n' >>"$T/bad.txt"
kcat -b "$BOOTSTRAP" -P -t events -K "$(printf '\t')" -H "trace=abc123" -l "$T/bad.txt" 2>>"$T/kcat.log" &&
  pass "kcat produced 6 poison messages" || fail "kcat poison" "$(cat "$T/kcat.log")"

eval "$(consumer_cmd) -t events --drain" 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && pass "consumer survives poison and drains" || fail "consumer" "exit $rc"
rows=$(psql_q "SELECT count(*) FROM events")
[ "$rows" = 50 ] && pass "50 kcat-produced events stored" || fail "rows" "$rows"
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dead" = 6 ] && pass "dead_letters mirror has 6 rows" || fail "dead_letters" "$dead"
ends=$(topic_end_offsets_sum events)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE topic='events'")
[ "$stored" = "$ends" ] && pass "offsets pass the dead letters ($ends)" || fail "offsets" "$stored vs $ends"

kcat -b "$BOOTSTRAP" -C -t events.dlq -e -J -q >"$T/dlq.json" 2>>"$T/kcat.log"
/usr/bin/python3 - "$T/dlq.json" "$T/bad.txt" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape") if l.strip()]
want = {}
for raw in open(sys.argv[2], "rb").read().split(b"\n"):
    if raw:
        k, v = raw.split(b"\t", 1)
        want[k.decode()] = v
ok = True
def check(name, cond, detail=""):
    global ok
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    ok = ok and cond
check("6 dead letters read back with kcat", len(msgs) == 6, str(len(msgs)))
classes = {}
for m in msgs:
    h = m.get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    key = m.get("key")
    classes[key] = hd.get("shoal.error.class")
    need = ["shoal.error.class", "shoal.error.stage", "shoal.error.message", "shoal.original.topic",
            "shoal.original.partition", "shoal.original.offset", "shoal.original.timestamp",
            "shoal.consumer.group", "shoal.attempts", "shoal.failed.at", "shoal.host", "shoal.version"]
    missing = [n for n in need if n not in hd]
    check("headers complete for " + str(key), not missing, str(missing))
    check("original header kept for " + str(key), hd.get("trace") == "abc123", str(hd.get("trace")))
    check("origin coordinates for " + str(key), hd.get("shoal.original.topic") == "events"
          and hd.get("shoal.consumer.group") == "shoal" and hd.get("shoal.original.offset", "").isdigit(), str(hd))
    payload = m.get("payload")
    if key in want:
        raw = want[key].decode("utf-8", errors="surrogateescape")
        check("original value kept for " + key, payload == raw, repr(payload)[:80])
expect = {"bad-1": "invalid_json", "bad-2": "schema", "bad-3": "invalid_utf8", "bad-4": "schema",
          "bad-5": "schema", "bad-6": "schema"}
check("error classes", classes == expect, str(classes))
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] || FAILED=1
exit $FAILED
