# A merge leaves the absorbed cluster's event rows as they are: an event's
# cluster is its row's, resolved through clusters.merged_into. The demo's
# OpenAI funding cluster is merged into a new survivor the way the consumer
# writes a merge (the survivor takes its counts and terms, the absorbed row
# points at it): the trends, the report and the views still count its
# events, now under the survivor.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
events_start
consume_corpus tests/data/demo.jsonl

trends_json() { eval "$(consumer_cmd) trends --json" 2>"$T/trends.log"; }
# The OpenAI evidence of the AI funding trend: "cluster_id events".
openai() {
  /usr/bin/python3 -c 'import json, sys
for t in json.load(sys.stdin):
    for e in t["evidence"]:
        if t["key"] == "ai+funding" and e.get("subject") == "OpenAI": print(e["cluster_id"], e["events"])'
}
# The report page's row for the cluster labelled $1: size, sources, events in the period.
report_row() {
  eval "$(consumer_cmd) report --html $T/r.html" 2>"$T/report.log" || return 1
  /usr/bin/python3 - "$T/r.html" "$1" <<'PY'
import html, re, sys
page, label = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
for m in re.finditer(r'<tr><td>([^<]*)</td><td class="n">([0-9]+)</td><td class="n">([0-9]+)</td><td class="n">([0-9]+)</td>', page):
    if html.unescape(m.group(1)) == label: print(m.group(2), m.group(3), m.group(4))
PY
}

read -r A EVENTS <<X
$(trends_json | openai)
X
[ -n "${A:-}" ] && [ "${EVENTS:-0}" -gt 0 ] && pass "the AI funding trend has an OpenAI cluster ($EVENTS events)" ||
  fail "OpenAI evidence" "none: $(cat "$T/trends.log")"
A=${A:-0}
LABEL=$(psql_q "SELECT label FROM clusters WHERE id = $A")
row_before=$(report_row "$LABEL")
summary_before=$(psql_q "SELECT docs || '/' || sources FROM cluster_summary WHERE id = $A")
[ -n "$row_before" ] && pass "report lists the cluster: size, sources, in period $row_before" ||
  fail "report row" "no row for \"$LABEL\""

S=4242424242
psql_q "INSERT INTO clusters (id, docs, first_seen, last_seen, label, updated_by, version, terms, weights)
          SELECT $S, docs, first_seen, last_seen, label, 'test', nextval('cluster_version'), terms, weights
          FROM clusters WHERE id = $A;
        UPDATE clusters SET merged_into = $S, terms = '{}', weights = '{}', version = nextval('cluster_version')
          WHERE id = $A" >/dev/null
rows=$(psql_q "SELECT count(*) FROM events WHERE cluster_id = $A")
through=$(psql_q "SELECT count(*) FROM event_clusters WHERE cluster_id = $S")
[ "$rows" -gt 0 ] && [ "$through" = "$rows" ] &&
  pass "event_clusters: the $rows events stored under the absorbed cluster belong to the survivor" ||
  fail "event_clusters" "$through through the survivor, $rows rows"
[ "$(psql_q "SELECT docs || '/' || sources FROM cluster_summary WHERE id = $S")" = "$summary_before" ] &&
  pass "cluster_summary: the survivor has the absorbed cluster's documents and sources ($summary_before)" ||
  fail "cluster_summary" "$(psql_q "SELECT docs || '/' || sources FROM cluster_summary WHERE id = $S") vs $summary_before"

# One more event, unrelated, so that the next drain recomputes the trends.
printf '%s\n' '{"id":"late-1","kind":"article","source":"late.example","title":"Harbour ferry timetable changes for the winter","text":"The harbour ferry will run every forty minutes from November, the operator said.","published_at":"2024-10-09T12:00:00Z","lang":"en"}' >"$T/late.jsonl"
consume_corpus "$T/late.jsonl"
read -r C EVENTS2 <<X
$(trends_json | openai)
X
[ "${C:-}" = "$S" ] && [ "${EVENTS2:-}" = "$EVENTS" ] &&
  pass "trends recomputed: the OpenAI evidence is the survivor, with the same $EVENTS events" ||
  fail "trends after the merge" "OpenAI evidence ${C:-none} with ${EVENTS2:-?} events (survivor $S, $EVENTS before)"
row_after=$(report_row "$LABEL")
[ -n "$row_after" ] && [ "$row_after" = "$row_before" ] &&
  pass "report: the same size, sources and events in the period ($row_after)" ||
  fail "report after the merge" "\"${row_after:-no row}\" vs \"$row_before\""
exit $FAILED
