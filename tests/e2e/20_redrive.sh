# Redrive: dead letters written by the real consumer go back to their topic.
# --dry-run lists and commits nothing; --error-class picks one class; the
# republished copies keep key, value and the original headers, lose the
# shoal.error.* diagnostics and gain shoal.redrive.count=1; dead-lettered
# again, they keep the count, and --max-redrives then skips them. Truncated
# letters are never republished; a failed delivery exits 7 and commits
# nothing; SIGTERM stops cleanly.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start

# redrive NAME ARGS...: one run, stderr to $T/NAME.log, stdout to $T/NAME.out.
redrive() {
  name=$1; shift
  # shellcheck disable=SC2086
  "$BIN/shoal-producer" redrive -b "$BOOTSTRAP" $TEST_SESSION_OPTS --from events.dlq "$@" \
    >"$T/$name.out" 2>"$T/$name.log"
}

# The counts of a run's summary line: "read=N republished=N ...".
summary() {
  /usr/bin/python3 - "$T/$1.log" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("msg") == "redrive summary":
        keys = ["read", "would_republish", "republished", "skipped_by_class",
                "skipped_over_max", "skipped_truncated", "failed"]
        print(" ".join("%s=%s" % (k, d[k]) for k in keys if k in d))
PY
}

expect_run() { # NAME WANT_RC WANT_SUMMARY GOT_RC
  got=$(summary "$1")
  if [ "$4" = "$2" ] && [ "$got" = "$3" ]; then pass "$1: exit $2, $3"
  else fail "$1" "exit $4 (want $2), summary \"$got\" (want \"$3\"); $(tail -n 3 "$T/$1.log")"; fi
}

# --- Dead letters from the real consumer.
head -n 10 tests/data/demo.jsonl >"$T/good.jsonl"
printf 'bad-1\tnot json at all\n' >"$T/bad.txt"
printf 'bad-2\t{"title":"no source"}\n' >>"$T/bad.txt"
printf 'bad-3\t{"source":"x","title":"t","published_at":"yesterday"}\n' >>"$T/bad.txt"
head -c 950000 /dev/zero | tr '\0' x >"$T/big.txt"  # over the consumer's 900 KiB dead-letter cap
{ kcat -b "$BOOTSTRAP" -P -t events -l "$T/good.jsonl" &&
  kcat -b "$BOOTSTRAP" -P -t events -K "$(printf '\t')" -H "trace=abc123" -l "$T/bad.txt" &&
  kcat -b "$BOOTSTRAP" -P -t events -k bad-big -H "trace=abc123" "$T/big.txt"; } 2>"$T/kcat.log" &&
  pass "kcat produced 10 events and 4 poison messages" || fail "kcat produce" "$(cat "$T/kcat.log")"

eval "$(consumer_cmd) -t events --drain" 2>"$T/c1.log"
rc=$?
dlq=$(kcat -b "$BOOTSTRAP" -C -t events.dlq -e -q | wc -l)
[ $rc = 0 ] && [ "$dlq" = 4 ] && pass "consumer dead-lettered the 4 poison messages" ||
  fail "first consumer pass" "exit $rc, $dlq dead letters"
ends_before=$(topic_end_offsets_sum events)

# --- Dry run: lists the three that can be re-driven (bad-big is truncated).
redrive dry1 --dry-run
expect_run dry1 0 "read=4 would_republish=3 skipped_by_class=0 skipped_over_max=0 skipped_truncated=1 failed=0" $?
listed=$(awk -F '\t' 'NF == 5 && $1 == 0 && $2 ~ /^[0-9]+$/ && $4 == "events" {print $5 ":" $3}' "$T/dry1.out" | sort | tr '\n' ' ')
[ "$listed" = "bad-1:invalid_json bad-2:schema bad-3:schema " ] &&
  pass "dry run lists partition, offset, class, target, key" || fail "dry run listing" "$(cat "$T/dry1.out")"
[ "$(topic_end_offsets_sum events)" = "$ends_before" ] &&
  pass "dry run republished nothing" || fail "dry run republished" "events grew"
redrive dry2 --dry-run
if [ "$(sort "$T/dry2.out")" = "$(sort "$T/dry1.out")" ]; then pass "dry run committed nothing (same list again)"
else fail "dry run committed" "$(cat "$T/dry2.out")"; fi

# --- One class: exactly the schema letters come back, once each.
redrive schema --error-class schema
expect_run schema 0 "read=4 republished=2 skipped_by_class=2 skipped_over_max=0 skipped_truncated=0 failed=0" $?
kcat -b "$BOOTSTRAP" -C -t events -e -J -q >"$T/events.json" 2>>"$T/kcat.log"
/usr/bin/python3 - "$T/events.json" <<'PY' || FAILED=1
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1], errors="surrogateescape") if l.strip()]
ok = True
def check(name, cond, detail=""):
    global ok
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)))
    ok = ok and cond
def hdrs(m):
    h = m.get("headers") or []
    return list(zip(h[0::2], h[1::2]))
first = {}
for m in msgs:
    if not any(k == "shoal.redrive.count" for k, _ in hdrs(m)):
        first.setdefault(m.get("key"), m)
again = [m for m in msgs if any(k == "shoal.redrive.count" for k, _ in hdrs(m))]
check("events holds 16 messages after the re-drive", len(msgs) == 16, len(msgs))
check("exactly bad-2 and bad-3 reappear", sorted(m.get("key") for m in again) == ["bad-2", "bad-3"],
      [m.get("key") for m in again])
for m in again:
    h, k = hdrs(m), m.get("key")
    check(k + " has shoal.redrive.count=1", [v for n, v in h if n == "shoal.redrive.count"] == ["1"], h)
    check(k + " carries no other shoal.* header", [n for n, _ in h if n.startswith("shoal.")] == ["shoal.redrive.count"], h)
    check(k + " keeps its original header", ("trace", "abc123") in h, h)
    check(k + " keeps its original value", m.get("payload") == first[k].get("payload"), m.get("payload"))
sys.exit(0 if ok else 1)
PY
redrive schema-again --error-class schema
expect_run schema-again 0 "read=0 republished=0 skipped_by_class=0 skipped_over_max=0 skipped_truncated=0 failed=0" $?

# --- Still invalid: dead-lettered again, the count carried by the consumer.
eval "$(consumer_cmd) -t events --drain" 2>"$T/c2.log"
rc=$?
kcat -b "$BOOTSTRAP" -C -t events.dlq -e -J -q >"$T/dlq.json" 2>>"$T/kcat.log"
/usr/bin/python3 - "$T/dlq.json" "$rc" <<'PY' || FAILED=1
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1], errors="surrogateescape") if l.strip()]
def hdrs(m):
    h = m.get("headers") or []
    return list(zip(h[0::2], h[1::2]))
again = [m for m in msgs if any(k == "shoal.redrive.count" for k, _ in hdrs(m))]
ok = sys.argv[2] == "0" and len(msgs) == 6 and sorted(m.get("key") for m in again) == ["bad-2", "bad-3"]
for m in again:
    h = hdrs(m)
    ok = ok and [v for n, v in h if n == "shoal.redrive.count"] == ["1"]
    ok = ok and [v for n, v in h if n == "shoal.error.class"] == ["schema"] and ("trace", "abc123") in h
print("PASS second consumer pass dead-letters them again with shoal.redrive.count=1" if ok else
      "FAIL second consumer pass: exit %s, %d dead letters, %s" % (sys.argv[2], len(msgs), [hdrs(m) for m in again]))
sys.exit(0 if ok else 1)
PY

# --- --max-redrives 1: the re-dead-lettered pair is skipped and reported.
ends_before=$(topic_end_offsets_sum events)
redrive max --max-redrives 1
expect_run max 0 "read=2 republished=0 skipped_by_class=0 skipped_over_max=2 skipped_truncated=0 failed=0" $?
skipped=$(grep '"dead letter skipped"' "$T/max.log" | grep -c 're-driven --max-redrives times already')
[ "$skipped" = 2 ] && [ "$(topic_end_offsets_sum events)" = "$ends_before" ] &&
  pass "over-max letters are logged and not republished" || fail "max skip" "$skipped logged; $(tail -n 2 "$T/max.log")"

# --- A failed delivery: exit 7, nothing committed; the rerun re-drives it.
mock_cmd "error Produce TOPIC_AUTHORIZATION_FAILED 100" >/dev/null
redrive fail1 -g redrive-fail --error-class invalid_json --to retry
rc=$?
mock_cmd "clear" >/dev/null
got=$(summary fail1)
case "$rc:$got" in
  "7:read="*"republished=0"*"failed=1") pass "failed delivery: exit 7, reported" ;;
  *) fail "failed delivery" "exit $rc, $got; $(tail -n 3 "$T/fail1.log")" ;;
esac
redrive fail2 -g redrive-fail --error-class invalid_json --to retry
expect_run fail2 0 "read=6 republished=1 skipped_by_class=4 skipped_over_max=0 skipped_truncated=1 failed=0" $?
kcat -b "$BOOTSTRAP" -C -t retry -e -f '%k\n' -q >"$T/retry.txt" 2>>"$T/kcat.log"
[ "$(cat "$T/retry.txt")" = "bad-1" ] && pass "--to: bad-1 re-driven once, truncated bad-big never" ||
  fail "retry topic" "$(cat "$T/retry.txt")"

# --- SIGTERM while joining the group: a clean, prompt stop.
"$BIN/shoal-producer" redrive -b "$BOOTSTRAP" $TEST_SESSION_OPTS --from events.dlq -g redrive-sig \
  >/dev/null 2>"$T/sig.log" &
pid=$!
harness_track $pid
sleep 1
kill -TERM $pid
start=$(now_ms)
wait $pid
rc=$?
took=$(( $(now_ms) - start ))
if [ $rc = 7 ] && [ $took -lt 10000 ] && grep -q '"reason":"interrupted by a signal"' "$T/sig.log"; then
  pass "SIGTERM: exit 7 after ${took} ms, summary logged"
else
  fail "SIGTERM" "exit $rc after $took ms; $(tail -n 2 "$T/sig.log")"
fi

if grep -q 'Sanitizer\|runtime error' "$T"/*.log; then
  fail "sanitizers" "$(grep -h 'Sanitizer\|runtime error' "$T"/*.log | head -n 3)"
fi
exit $FAILED
