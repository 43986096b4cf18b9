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

# Clusters without events in the window carry no theme and are left out of
# the trend input: 500 of them added at the window's end, then one more event
# (a copy of the corpus's first under a new id, so the window stays) makes
# the drain recompute the trends.
clusters_in() { grep -o '"msg":"trends updated","trends":"[0-9]*","clusters":"[0-9]*"' "$1" | tail -n 1 | grep -o '[0-9]*"$' | tr -d '"'; }
before=$(clusters_in "$T/consumer.log")
psql_q "INSERT INTO clusters (id, docs, first_seen, last_seen, label, updated_by)
        SELECT 900000 + g, 0, m, m, 'no events ' || g, 'test' FROM generate_series(1, 500) g,
               (SELECT max(last_seen) AS m FROM clusters) x" >/dev/null
head -n 1 tests/data/trends-planted.jsonl | sed 's/"id":"[^"]*"/"id":"tp-copy-1"/' >"$T/one.jsonl"
produce events "$T/one.jsonl" 2>>"$T/producer.log"
eval "$(consumer_cmd) -t events --drain" 2>"$T/consumer2.log" || fail "second drain" "$(tail -n 3 "$T/consumer2.log")"
after=$(clusters_in "$T/consumer2.log")
[ -n "$before" ] && [ -n "$after" ] && [ "$after" -le $((before + 1)) ] &&
  pass "clusters without events left out of the trend input ($before, then $after)" ||
  fail "trend input" "clusters $before, then $after, with 500 empty ones added"
eval "$(consumer_cmd) trends --json" >"$T/trends2.json" 2>>"$T/trends.log"
/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print(('PASS' if len(t)==1 and 'quantum' in t[0]['key'] else 'FAIL') + ' the same one trend after the recomputation')" "$T/trends2.json"
exit $FAILED
