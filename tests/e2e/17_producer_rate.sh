# shoal-producer --rate paces messages: 3,000 events at 1,000/s are spread
# over about 3 s of message timestamps (a lower bound only: a slow machine
# can stretch it, never shorten it), all delivered and readable by kcat.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
mock_start --brokers 1 --topic paced:3 --topic held:1
produce paced --generate 3000 --seed 5 --rate 1000 2>"$T/p.log" &&
  pass "3000 events produced at --rate 1000" || fail "produce" "$(tail -n 2 "$T/p.log")"
kcat -b "$BOOTSTRAP" -C -t paced -o beginning -e -q -f '%T\n' >"$T/ts" 2>"$T/kcat.log"
n=$(wc -l <"$T/ts")
[ "$n" = 3000 ] && pass "kcat reads 3000 messages" || fail "count" "$n"
span=$(sort -n "$T/ts" | sed -n '1p;$p' | tr '\n' ' ' | awk '{print $2 - $1}')
[ "${span:-0}" -ge 2900 ] && pass "timestamps span ${span} ms (>= 2900)" || fail "pacing" "span ${span:-?} ms"
# The clock starts when the first message is acknowledged: with the
# broker's answer to the first Produce request held 1.5 s, the second
# message is not created before it (unpaced, 1,500 messages would queue
# meanwhile and reach the broker as one burst, not as the load asked for).
mock_cmd "broker-error 1 Produce 0 1 1500" | grep -q '^ok' || fail "mock" "cannot hold the first Produce answer"
produce held --generate 200 --seed 6 --rate 1000 2>"$T/p2.log" || fail "produce" "$(tail -n 2 "$T/p2.log")"
kcat -b "$BOOTSTRAP" -C -t held -o beginning -e -q -f '%T\n' >"$T/held" 2>"$T/kcat2.log"
gap=$(sed -n '1p;2p' "$T/held" | tr '\n' ' ' | awk '{print $2 - $1}')
last=$(sort -n "$T/held" | sed -n '1p;$p' | tr '\n' ' ' | awk '{print $2 - $1}')
[ "$(wc -l <"$T/held")" = 200 ] && [ "${gap:-0}" -ge 1400 ] && [ "${last:-0}" -ge $((gap + 190)) ] &&
  pass "pacing starts at the first acknowledgement (second message ${gap} ms after the first, then paced)" ||
  fail "paced start" "$(wc -l <"$T/held") messages, second after ${gap:-?} ms, span ${last:-?} ms"
bad=$("$BIN/shoal-producer" -b "$BOOTSTRAP" -t paced --generate 1 --rate 0 2>&1; echo "rc=$?")
case "$bad" in *rc=2*) pass "--rate 0 is a usage error (exit 2)" ;; *) fail "rate 0" "$bad" ;; esac
exit $FAILED
