# The planted-trend corpus (tests/data/trends-planted.README.md) through the
# real pipeline: produce to the mock cluster, consume into PostgreSQL, read
# the stored trends with `trends --json`. Exactly the quantum funding trend,
# rising, carried by at least three of its four rounds with their amounts;
# none of the distractors.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start
consume_corpus tests/data/trends-planted.jsonl
eval "$(consumer_cmd) trends --json" >"$T/trends.json" 2>"$T/trends.log" || fail "trends --json" "$(tail -n 2 "$T/trends.log")"
/usr/bin/python3 - "$T/trends.json" <<'PY'
import json, sys
trends = json.load(open(sys.argv[1]))
def check(name, ok, detail):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, detail)))
check("exactly one trend", len(trends) == 1, [t["title"] for t in trends])
t = trends[0] if trends else {"key": "", "direction": "", "evidence": []}
check("the trend is about quantum", "quantum" in t["key"], t["key"])
check("rising", t["direction"] == "rising", t["direction"])
rounds = {"Qubitra": 300e6, "Entangle Labs": 120e6, "Photonic Arc": 85e6, "Coherent Axis": 210e6}
found = {e["subject"] for e in t["evidence"] if e.get("subject") in rounds and e.get("amount") == rounds[e["subject"]]}
check("at least 3 of the 4 funding rounds as evidence, with their amounts", len(found) >= 3, sorted(found))
others = [e["label"] for e in t["evidence"] if e.get("subject") not in rounds]
check("no distractor story in the evidence", not others, others)
PY
exit $FAILED
