# Instances converge on one set of story clusters: the labelled demo corpus
# (a story's articles share one tags list: tests/data/demo.README.md) is
# clustered on the real path (tests/support/eval.sh: produce to the mock
# cluster, consume into PostgreSQL, read the clusters back) by one consumer
# and by three in one group, on the same stream (one topic of 6 partitions),
# and the two B-cubed F1 scores are within 0.02.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
BIN=${BIN:-bin}
export BIN
[ -x "$BIN/cluster_eval" ] || { fail "cluster_eval" "$BIN/cluster_eval not built (make test builds it)"; exit 1; }

/usr/bin/python3 - tests/data/demo.jsonl >"$T/labelled.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    e["gold_cluster"] = ",".join(e.get("tags") or [])
    print(json.dumps(e, ensure_ascii=False))
PY
total=$(wc -l <"$T/labelled.jsonl")

# f1 LOG: the B-cubed F1 that cluster_eval printed.
f1() { awk '/^B-cubed/ { print $NF }' "$1"; }
for n in 1 3; do
  PARTITIONS=6 sh tests/support/eval.sh "$T/labelled.jsonl" $n >"$T/eval$n.log" 2>&1
  rc=$?
  stored=$(sed -n 's/.*stored \([0-9]*\) .*/\1/p' "$T/eval$n.log")
  [ $rc = 0 ] && [ "$stored" = "$total" ] && [ -n "$(f1 "$T/eval$n.log")" ] &&
    pass "$n instance(s): all $total events clustered and scored, F1 $(f1 "$T/eval$n.log")" ||
    fail "$n instance(s)" "exit $rc, stored ${stored:-?} of $total: $(tail -n 3 "$T/eval$n.log")"
done
idle=$(grep -c '^instance [0-9] persisted 0$' "$T/eval3.log")
[ "$idle" = 0 ] && pass "every one of the 3 instances persisted events" ||
  fail "3 instances" "$idle persisted nothing: $(grep '^instance' "$T/eval3.log" | tr '\n' ' ')"
one=$(f1 "$T/eval1.log")
three=$(f1 "$T/eval3.log")
if [ -n "$one" ] && [ -n "$three" ] &&
   awk -v a="$one" -v b="$three" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 && a >= 0.8) }'; then
  pass "B-cubed F1: 3 instances $three, 1 instance $one (within 0.02)"
else fail "convergence" "F1 1 instance ${one:-?}, 3 instances ${three:-?}"; fi
exit $FAILED
