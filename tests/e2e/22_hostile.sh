# Hostile messages through the real consumer: an empty message, a 4 MB
# message, JSON nested 100k deep, NUL bytes, invalid UTF-8, numbers out of
# range, duplicate keys and a 2 MB title. The consumer stays alive, its
# peak memory stays bounded, and every message gets a clean outcome: stored,
# or a dead letter with a class and a reason (the 4 MB one truncated).
# The mock cluster keeps at most 5 MB per partition (older messages are
# dropped), so the two big ones get partitions of their own, and the 50 MB
# message and the 10 MB title go through shoal-producer, which decodes with
# the same event_decode() and must reject them with a reason.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start

# Written by an independent client; each message keyed by its name.
/usr/bin/python3 - "$BOOTSTRAP" "$T/expect.tsv" <<'PY' || fail "produce hostile" "python producer"
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "message.max.bytes": 20_000_000, "linger.ms": 0})
failed = []
ok = b'{"source":"hostile","title":"'
msgs = [  # key, value, expected outcome (stored | error class)
    ("empty", b"", "empty"),
    ("4mb", ok + b"a" * (4 * 1000 * 1000) + b'"}', "oversize"),
    ("deep-array", b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
    ("deep-object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "invalid_json"),
    ("raw-nul", ok + b"a\x00b" + b'"}', "invalid_utf8"),
    ("escaped-nul", ok + b"a\\u0000b" + b'"}', "invalid_utf8"),
    ("bad-byte", ok + b"caf\xe9" + b'"}', "invalid_utf8"),
    ("overlong", ok + b"\xc0\xaf" + b'"}', "invalid_utf8"),
    ("surrogate", ok + b"\xed\xa0\x80" + b'"}', "invalid_utf8"),
    ("lone-surrogate-escape", ok + b"\\ud800" + b'"}', None),
    ("num-big", b'{"source":"hostile","title":"big","published_at":1e999}', "schema"),
    ("num-repo", b'{"kind":"repo_event","source":"github.com","repo":{"type":"PushEvent","repo":{"name":"a/b"},'
                 b'"payload":{"size":1e999,"push_id":-99999999999999999999999}}}', None),
    ("num-tag", b'{"source":"hostile","title":"t","tags":[1e400]}', "schema"),
    ("date-range", b'{"source":"hostile","title":"d","published_at":"99999-12-31T00:00:00Z"}', "schema"),
    ("dup-keys", b'{"source":"hostile","title":"a","title":"b"}', "schema"),
    ("dup-nested", b'{"source":"hostile","title":"a","repo":{"x":1,"x":2}}', None),
    ("title-2mb", ok + b"t" * (2 * 1000 * 1000) + b'"}', "oversize"),
    ("fine", ok + b"a fine event after all that" + b'"}', "stored"),
]
with open(sys.argv[2], "w") as f:
    for k, v, want in msgs:
        # One message per request: a batch of them all would not be served.
        at = []
        part = {"4mb": 1, "title-2mb": 2}.get(k, 0)
        p.produce("events", key=k.encode(), value=v, partition=part,
                  on_delivery=lambda e, m: failed.append(str(e)) if e else at.append(m.offset()))
        left = p.flush(60)
        if at:
            f.write("%s\t%d\t%d\t%s\n" % (k, part, at[0], want or "any"))
        if k == "4mb":
            open(sys.argv[2] + ".4mb", "w").write(str(len(v)))
sys.exit(1 if left or failed else 0)
PY
n=$(wc -l <"$T/expect.tsv")

consumer_bg "$T/c.log" -t events
wait_for 180 sh -c "[ \"\$(psql -X -q -t -A -d shoal -c 'SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM dead_letters)' 2>/dev/null)\" = $n ]" &&
  pass "all $n hostile messages have an outcome" ||
  fail "outcomes" "$(psql_q 'SELECT count(*) FROM events') stored, $(psql_q 'SELECT count(*) FROM dead_letters') dead"
kill -0 "$CONSUMER_PID" 2>/dev/null && pass "consumer alive after hostile input" || fail "alive" "consumer died: $(tail -n 5 "$T/c.log")"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$CONSUMER_PID/status" 2>/dev/null)
# The 50 MB message must pass through librdkafka's fetch buffer once; bounded
# means a small multiple of it, not a copy per stage.
[ -n "$hwm" ] && [ "$hwm" -lt 409600 ] && pass "peak RSS bounded (${hwm} kB)" || fail "peak RSS" "${hwm:-unknown} kB"
kill -TERM "$CONSUMER_PID" 2>/dev/null
wait "$CONSUMER_PID"
rc=$?
[ $rc = 0 ] && pass "clean shutdown after hostile input" || fail "shutdown" "exit $rc"

# Each expectation against the database mirror: error class and a reason.
psql -X -q -t -A -F "$(printf '\t')" -d shoal -c \
  "SELECT partition || ':' || kafka_offset, error_class, error_message FROM dead_letters
   UNION ALL SELECT kafka_partition || ':' || kafka_offset, 'stored', '' FROM events" >"$T/outcomes.tsv"
while IFS="$(printf '\t')" read -r key part off want; do
  got=$(awk -F '\t' -v o="$part:$off" '$1 == o {print $2}' "$T/outcomes.tsv")
  why=$(awk -F '\t' -v o="$part:$off" '$1 == o {print $3}' "$T/outcomes.tsv")
  [ -z "$got" ] && got=none
  if { [ "$want" = any ] && [ "$got" != none ]; } || [ "$got" = "$want" ]; then
    if [ "$got" != stored ] && [ -z "$why" ]; then fail "outcome $key" "dead letter without a reason"
    else pass "outcome $key: $got${why:+ ($why)}"; fi
  else
    fail "outcome $key" "want $want, got $got ${why}"
  fi
done <"$T/expect.tsv"

# Dead letters on the topic, read with kcat: the 50 MB one truncated, marked so.
kcat -b "$BOOTSTRAP" -C -t events.dlq -e -q -f '%k\t%S\t%h\n' -X fetch.message.max.bytes=2000000 \
  >"$T/dlq.tsv" 2>"$T/kcat.log"
dl=$(grep -c . "$T/dlq.tsv")
want_dl=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dl" = "$want_dl" ] && pass "dead-letter topic holds $dl letters" || fail "dlq topic" "$dl vs $want_dl"
line=$(grep '^4mb	' "$T/dlq.tsv")
size=$(echo "$line" | cut -f2)
case "$line" in
  *shoal.truncated=true*shoal.original.size=$(cat "$T/expect.tsv.4mb")*) [ "$size" -lt 1000000 ] &&
      pass "4 MB dead letter truncated to $size bytes with its original size" || fail "truncation" "$size" ;;
  *) fail "truncation" "$(echo "$line" | cut -c1-300)" ;;
esac

# The same decoder in shoal-producer: 50 MB line and 10 MB title rejected with
# a reason, the line after them still sent, memory a small multiple of a line.
/usr/bin/python3 - "$BIN/shoal-producer" "$BOOTSTRAP" "$T" <<'PY'
import resource, subprocess, sys
prod, bootstrap, t = sys.argv[1:4]
ok = b'{"source":"hostile","title":"'
with open(t + "/big.jsonl", "wb") as f:
    f.write(ok + b"a" * (50 * 1000 * 1000) + b'"}\n')
    f.write(ok + b"t" * (10 * 1000 * 1000) + b'"}\n')
    f.write(ok + b'after the big ones"}\n')
r = subprocess.run([prod, "-b", bootstrap, "-t", "big", t + "/big.jsonl"], stderr=subprocess.PIPE)
err = r.stderr.decode(errors="replace")
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
def check(name, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    return cond
ok_all = check("producer exits 7 (some lines rejected)", r.returncode == 7, str(r.returncode))
ok_all &= check("the line after the big ones delivered", '"delivered":"1"' in err, err[-300:])
ok_all &= check("50 MB and 10 MB lines rejected with a reason",
                err.count('"class":"oversize"') == 2 and "over the limit" in err, err[-300:])
ok_all &= check("producer peak RSS bounded (%d kB)" % rss_kb, rss_kb < 300 * 1024, str(rss_kb))
sys.exit(0 if ok_all else 1)
PY
[ $? = 0 ] || FAILED=1
exit $FAILED
