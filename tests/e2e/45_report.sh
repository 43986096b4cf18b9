# shoal-consumer report --html: the demo corpus (plus three events with a
# hostile title) through the real pipeline, then one HTML page that holds
# every current trend with its evidence, fetches nothing, escapes stored
# text, and renders in headless Chromium to a screenshot that is not blank.
# Chromium is a dependency (tests/support/deps.sh): missing, the test fails.
# REPORT_KEEP=DIR keeps the page and the screenshot (docs/report-example.png).
set -u
. tests/support/lib.sh
harness_init
FAILED=0

CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || fail "chromium" "not installed (make deps installs it)"

events_start

# The same hostile headline from three outlets: one story cluster whose label
# is markup, inside the demo's period so the report lists it.
HOSTILE='<script>alert(1)</script> Hostile & "quoted" headline'
for i in 1 2 3; do
  printf '{"id":"hostile-%s","kind":"article","source":"outlet%s.example","title":"%s","text":"%s %s","published_at":"2024-10-09T1%s:00:00Z","lang":"en"}\n' \
    "$i" "$i" "$(echo "$HOSTILE" | sed 's/"/\\"/g')" \
    'Zorblax quintessence flurbonium widgets were recalled by Zorblax Corp after the <b>flurbonium</b> scare.' \
    'Zorblax said the flurbonium widgets would be replaced.' "$i"
done >"$T/hostile.jsonl"

consume_corpus tests/data/demo.jsonl "$T/hostile.jsonl"
n=$(psql_q "SELECT count(*) FROM events WHERE id LIKE 'hostile-%'")
[ "$n" = 3 ] && pass "hostile events stored" || fail "hostile events" "$n stored"

eval "$(consumer_cmd) trends --json" >"$T/trends.json" 2>"$T/trends.log" ||
  fail "trends --json" "$(tail -n 2 "$T/trends.log")"

# trends --since: kept are the trends whose latest event is at or after T.
LAST=$(/usr/bin/python3 -c 'import json,sys; print(max((t["last_event"] for t in json.load(open(sys.argv[1]))), default=""))' "$T/trends.json")
LAST_TS=$(psql_q "SELECT to_char('$LAST'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
AFTER_TS=$(psql_q "SELECT to_char('$LAST'::timestamptz AT TIME ZONE 'UTC' + interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
n_at=$(eval "$(consumer_cmd) trends --json --since $LAST_TS" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
n_after=$(eval "$(consumer_cmd) trends --json --since $AFTER_TS" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "${n_at:-0}" -ge 1 ] && [ "$n_after" = 0 ] &&
  pass "trends --since: $n_at trend(s) with an event at $LAST_TS, none after it" ||
  fail "trends --since" "at $LAST_TS: ${n_at:-?}, a second later: ${n_after:-?}"
n_rel=$(eval "$(consumer_cmd) trends --json --since 1h" 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n_rel" = 0 ] && pass "trends --since 1h: the 2024 corpus has no trend in the last hour" ||
  fail "trends --since 1h" "${n_rel:-?} trends"
eval "$(consumer_cmd) trends --since yesterday" >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && pass "trends --since with a bad value: usage error" || fail "trends --since bad" "exit $rc"

H="$T/report.html"
eval "$(consumer_cmd) report --html $H" 2>"$T/report.log"
rc=$?
[ $rc = 0 ] && [ -s "$H" ] && pass "report --html exits 0 and writes the page" ||
  fail "report --html" "exit $rc: $(tail -n 2 "$T/report.log")"
eval "$(consumer_cmd) report" 2>/dev/null
rc=$?
[ $rc = 2 ] && pass "report without --html is a usage error" || fail "report usage" "exit $rc"
eval "$(consumer_cmd) report --html $T/no-such-dir/r.html" 2>"$T/report-bad.log"
rc=$?
[ $rc = 1 ] && grep -q "no-such-dir" "$T/report-bad.log" && pass "unwritable path: exit 1, the path named" ||
  fail "unwritable path" "exit $rc: $(tail -n 1 "$T/report-bad.log")"

# Content checks on the page itself; the expected strings come from the
# stored trends (trends --json), escaped the way HTML needs them.
/usr/bin/python3 - "$H" "$T/trends.json" "$HOSTILE" <<'PY' || fail "page checks" "the checker failed"
import html, json, re, sys
esc = lambda s: html.escape(s).replace("&#x27;", "&#39;")  # the page writes a quote as &#39;
page = open(sys.argv[1], encoding="utf-8").read()
trends = json.load(open(sys.argv[2]))
hostile = sys.argv[3]
def check(name, ok, detail=""):
    print(("PASS %s" if ok else "FAIL %s: " + detail) % name)

fetches = re.findall(r'''(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*''', page, re.I)
fetches += re.findall(r'''url\s*\(|@import|<link\b|<iframe\b|<img\b|<object\b|<embed\b''', page, re.I)
check("page fetches nothing (no external src/href, url(), @import, link, img)", not fetches, repr(fetches[:3]))
check("page has no scripts", "<script" not in page.lower(), "a <script tag is in the page")
check("hostile title escaped", esc(hostile) in page, "escaped title not found")
check("hostile title never raw", hostile not in page and "<script>alert(1)" not in page, "raw markup in the page")
check("event text markup never raw", "<b>flurbonium" not in page, "raw <b> from stored text")

keys = [t["key"] for t in trends]
check("at least one current trend stored", len(trends) > 0, "trends --json is empty")
check("demo's AI funding trend is current", "ai+funding" in keys, repr(keys))
missing = [t["title"] for t in trends if esc(t["title"]) not in page]
check("every current trend's title is in the page (%d)" % len(trends), not missing, repr(missing))
subjects = [e["subject"] for t in trends for e in t["evidence"] if e.get("subject")]
missing = [s for s in subjects if esc(s) not in page]
check("every evidence subject is in the page (%d)" % len(subjects), subjects and not missing, repr(missing))
labels = [e["label"] for t in trends for e in t["evidence"] if e.get("label")]
missing = [l for l in labels if esc(l) not in page]
check("every evidence cluster label is in the page (%d)" % len(labels), labels and not missing, repr(missing))
ai = next((t for t in trends if t["key"] == "ai+funding"), {"evidence": []})
subj = {e.get("subject") for e in ai["evidence"]}
want = {"OpenAI", "Anthropic", "Mistral AI"}
check("AI funding evidence names OpenAI, Anthropic, Mistral AI", want <= subj, repr(subj))
# The trend's card: from its title to the next card, with its chart and its
# evidence subjects inside it (not only somewhere on the page).
start = page.find(esc(ai.get("title", "-")))
end = page.find('<article', start + 1)
card = page[start:end if end > 0 else len(page)]
check("AI funding card has a chart and its subjects",
      start > 0 and "<svg" in card and all(s in card for s in want), "card incomplete")
check("AI funding total raised in the card", re.search(r"Total raised: 11\.[0-9]B USD from 3 subjects", card) is not None,
      "no total")
check("facts listed for the evidence", "Facts: " in card and "raised" in card, "no facts")
bars = len(re.findall(r"<rect [^>]*><title>[^<]*: [0-9]+ events</title>", card))
check("AI funding chart has one bar per day (%d)" % bars, bars >= 7, "%d bars" % bars)
check("cluster sizes chart present", "Cluster sizes over time" in page and page.count("<polyline") >= 2,
      "%d lines" % page.count("<polyline"))
PY

# Headless Chromium renders the page offline to a PNG.
PNG="$T/report.png"
if [ -n "$CHROMIUM" ]; then
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$T/chromium" \
    --screenshot="$PNG" --window-size=1280,2000 "file://$H" >"$T/chromium.log" 2>&1
  rc=$?
  [ $rc = 0 ] && [ -s "$PNG" ] && pass "chromium --headless writes a screenshot" ||
    fail "chromium" "exit $rc: $(tail -n 3 "$T/chromium.log")"
fi

# Decodes the PNG (zlib, PNG row filters) and counts colours: a page that
# failed to render is one flat colour.
[ -s "$PNG" ] && { /usr/bin/python3 - "$PNG" <<'PY' || fail "screenshot checks" "the checker failed"; }
import collections, struct, sys, zlib
data = open(sys.argv[1], "rb").read()
def check(name, ok, detail=""):
    print(("PASS %s" if ok else "FAIL %s: " + detail) % name)
check("screenshot is a PNG of a sane size (%d bytes)" % len(data),
      data[:8] == b"\x89PNG\r\n\x1a\n" and 20000 < len(data) < 20000000, "%d bytes" % len(data))
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
check("screenshot is 1280x2000", (w, h) == (1280, 2000), "%dx%d" % (w, h))
bpp = {2: 3, 6: 4}.get(ctype, 0)
if depth != 8 or not bpp:
    check("screenshot decodable", False, "bit depth %d colour type %d" % (depth, ctype))
    sys.exit(0)
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, pos = bytearray(stride), collections.Counter(), 0
for y in range(h):
    f, row = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
    pos += 1 + stride
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:  # every fourth row is plenty to count colours
        colours.update(bytes(row[x:x + 3]) for x in range(0, stride, bpp))
    prev = row
top = colours.most_common(1)[0][1] / sum(colours.values())
check("screenshot has many colours (%d distinct)" % len(colours), len(colours) >= 50, "%d" % len(colours))
check("screenshot is not one flat colour (background %.0f%%)" % (100 * top), top < 0.9, "%.3f" % top)
# The header bar is dark (#1d2330) and the page body light: both must show.
dark = sum(v for k, v in colours.items() if max(k) < 60)
check("screenshot shows the dark header and text", dark > 1000, "%d dark pixels" % dark)
PY
[ -n "${REPORT_KEEP:-}" ] && cp "$H" "$PNG" "$REPORT_KEEP"/ 2>/dev/null
grep -q '"level":"error"' "$T/consumer.log" && fail "no errors logged" "$(grep '"level":"error"' "$T/consumer.log" | head -n 2)"
exit $FAILED
