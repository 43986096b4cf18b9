# shoal-producer --rate paces messages: 3,000 events at 1,000/s are spread
# over about 3 s of message timestamps (a lower bound only: a slow machine
# can stretch it, never shorten it), all delivered and readable by kcat.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
mock_start --brokers 1 --topic paced:3
produce paced --generate 3000 --seed 5 --rate 1000 2>"$T/p.log" &&
  pass "3000 events produced at --rate 1000" || fail "produce" "$(tail -n 2 "$T/p.log")"
kcat -b "$BOOTSTRAP" -C -t paced -o beginning -e -q -f '%T\n' >"$T/ts" 2>"$T/kcat.log"
n=$(wc -l <"$T/ts")
[ "$n" = 3000 ] && pass "kcat reads 3000 messages" || fail "count" "$n"
span=$(sort -n "$T/ts" | sed -n '1p;$p' | tr '\n' ' ' | awk '{print $2 - $1}')
[ "${span:-0}" -ge 2900 ] && pass "timestamps span ${span} ms (>= 2900)" || fail "pacing" "span ${span:-?} ms"
bad=$("$BIN/shoal-producer" -b "$BOOTSTRAP" -t paced --generate 1 --rate 0 2>&1; echo "rc=$?")
case "$bad" in *rc=2*) pass "--rate 0 is a usage error (exit 2)" ;; *) fail "rate 0" "$bad" ;; esac
exit $FAILED
