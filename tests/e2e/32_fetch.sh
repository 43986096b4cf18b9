# Page fetching (fetch.enabled) on the real consumer against a local fake
# site: an event with a URL and no text gets the page's main text (HTML
# parsed, boilerplate dropped, charset converted to UTF-8); every failure
# (wrong type, redirect loop, too large, bad charset, slow, unreachable) is
# recorded as fetch_status on a stored event, never a dead letter; events
# with text are not fetched; off by default.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:2 --topic events.dlq:1 --topic off:1
/usr/bin/python3 tests/support/fake_site.py >"$T/site.port" 2>"$T/site.log" &
harness_track $!
wait_for 10 test -s "$T/site.port" || fail "fake site" "no port"
SITE="http://127.0.0.1:$(head -n 1 "$T/site.port")"

# id path: one event per page, no text.
/usr/bin/python3 - "$SITE" >"$T/events.jsonl" <<'PY'
import json, sys
site = sys.argv[1]
pages = {"page": "/page.html", "latin1": "/latin1.html", "image": "/image.png", "loop": "/loop",
         "huge": "/huge", "badcs": "/badcharset.html", "slow": "/slow",
         "down": "http://127.0.0.1:9/nothing.html"}
for k, path in pages.items():
    url = path if path.startswith("http") else site + path
    print(json.dumps({"id": "f-" + k, "source": "fake.example", "title": "Fetched " + k, "url": url,
                      "published_at": "2024-10-02T10:00:00Z"}))
print(json.dumps({"id": "f-text", "source": "fake.example", "title": "Has text", "url": site + "/page.html",
                  "text": "Already here.", "published_at": "2024-10-02T10:00:00Z"}))
PY
produce events "$T/events.jsonl" 2>"$T/p.log" || fail "produce" "$(tail -n 2 "$T/p.log")"
sed 's/"id": "f-/"id": "o-/' "$T/events.jsonl" >"$T/off.jsonl"
produce off "$T/off.jsonl" 2>>"$T/p.log"
start=$(now_ms)
eval "$(consumer_cmd) -t events --drain --set fetch.enabled=true --set fetch.timeout.ms=2000 \
  --set fetch.max.bytes=1048576" 2>"$T/c.log"
rc=$?
took=$(( $(now_ms) - start ))
[ $rc = 0 ] && pass "drain with page fetching exits 0" || fail "drain" "exit $rc: $(tail -n 2 "$T/c.log")"
[ "$took" -lt 60000 ] && pass "every fetch bounded (whole run ${took} ms, the slow page answers after 30 s)" || fail "bounded" "${took} ms"
[ "$(psql_q "SELECT count(*) FROM events")" = 9 ] && pass "all 9 events stored" || fail "stored" "$(psql_q 'SELECT count(*) FROM events')"
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 0 ] && pass "no fetch failure is a dead letter" || fail "dead letters" "$(psql_q 'SELECT count(*) FROM dead_letters')"
status() { psql_q "SELECT coalesce(fetch_status, 'NULL') FROM events WHERE id = 'f-$1'"; }
for pair in page:ok latin1:ok image:bad_type loop:redirects huge:too_large badcs:bad_charset slow:timeout down:network text:NULL; do
  k=${pair%%:*}; want=${pair#*:}
  got=$(status "$k")
  [ "$got" = "$want" ] && pass "$k: fetch_status $want" || fail "$k" "fetch_status $got, want $want"
done
body=$(psql_q "SELECT body FROM events WHERE id = 'f-page'")
case "$body" in *"First paragraph of the article."*"Second paragraph, café included."*) pass "main text stored as the body" ;; *) fail "body" "$body" ;; esac
case "$body" in *"Menu item"*|*"Copyright footer"*|*"script text"*|*"Related links"*) fail "boilerplate" "$body" ;; *) pass "navigation, footer, aside and script dropped" ;; esac
psql_q "SELECT body FROM events WHERE id = 'f-latin1'" | grep -q 'é' && pass "ISO-8859-1 page converted to UTF-8" || fail "latin1" "$(psql_q "SELECT body FROM events WHERE id = 'f-latin1'")"
[ "$(psql_q "SELECT body FROM events WHERE id = 'f-text'")" = "Already here." ] && pass "an event with text is not fetched" || fail "text" "overwritten"
psql_q "SELECT extraction::text FROM events WHERE id = 'f-page'" | grep -q 'paragraph' &&
  pass "the fetched text is what got extracted" || fail "extraction" "$(psql_q "SELECT extraction->'key_terms' FROM events WHERE id = 'f-page'")"

# Off by default: nothing is fetched. (The slow page's request is logged
# when its answer ends, 30 s in, and /stats logs itself: both are left out.)
requests() { /usr/bin/python3 -c 'import json,sys,urllib.request; print(len([r for r in json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=5))["requests"] if r[0] not in ("/slow", "/stats")]))' "$SITE"; }
before=$(requests)
eval "$(consumer_cmd) -t off -g g-off --drain" 2>"$T/c2.log"
after=$(requests)
[ "$before" = "$after" ] && [ "$(psql_q "SELECT count(*) FROM events WHERE id LIKE 'o-%' AND fetch_status IS NULL")" = 9 ] &&
  pass "fetch.enabled defaults to off: events stored, no request made" || fail "default off" "$before -> $after requests"
exit $FAILED
