# SQL safety: titles and texts full of quotes, backslashes, SQL injection
# attempts, COPY's own markers (\N, \., tabs, newlines) and Unicode edge
# cases are stored and read back byte-identical (compared as hex of the
# UTF-8 bytes), and the tables they talk about are still there. Times
# before 1970 and 2000 (the epochs the consumer and PostgreSQL count from),
# with and without fractions and offsets, read back to the microsecond.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:2 --topic events.dlq:1

/usr/bin/python3 - "$T/events.jsonl" "$T/expect.tsv" "$T/times.tsv" <<'PY'
import json, sys
nasty = [
    "'); DROP TABLE events; --",
    "Robert'); DROP TABLE events;-- \"quoted\" `tick` $1 $$dollar$$ %s %n",
    "back\\slash \\\\ double \\N null-marker \\. end-marker \\",
    "tab\there\nnew line\r\ncarriage \u000b vt \u000c ff \u0001 \u001f \u007f",
    "E'\\x41' U&'\\0041' ;COMMIT; SELECT pg_sleep(10); --",
    "\ufeffBOM \u200b zwsp \u200d zwj \u202e rtl-override \u2066 isolate",
    "\U0010ffff max \uffff \ufffe nonchars \ufffd replacement",
    "e\u0301 combining, \U0001f468\u200d\U0001f469\u200d\U0001f467 family, \U0001f1fa\U0001f1f8 flag",
    "\u2028 line sep \u2029 para sep \u0085 nel \u00a0 nbsp",
    "\u65e5\u672c\u8a9e \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea \U00020000",
]
with open(sys.argv[1], "w", encoding="utf-8") as f, open(sys.argv[2], "w") as e:
    for i, s in enumerate(nasty):
        title, text = s, (s + " ") * 50 + s
        f.write(json.dumps({"id": "nasty-%d" % i, "source": "quote'\"\\src", "title": title,
                            "text": text, "tags": [s[:60]]}, ensure_ascii=(i % 2 == 0)) + "\n")
        e.write("nasty-%d\t%s\t%s\n" % (i, title.encode().hex(), text.encode().hex()))
    times = [("1969-07-20T20:17:40.123456Z", "1969-07-20T20:17:40.123456Z"),
             ("1999-12-31T23:59:59.999999Z", "1999-12-31T23:59:59.999999Z"),
             ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000000Z"),
             ("2024-10-01T12:00:00.5+02:00", "2024-10-01T10:00:00.500000Z"),
             ("1900-01-01T00:00:00.000001Z", "1900-01-01T00:00:00.000001Z")]
    with open(sys.argv[3], "w") as t:
        for i, (at, want) in enumerate(times):
            f.write(json.dumps({"id": "time-%d" % i, "source": "s", "title": "a time", "text": "t",
                                "published_at": at, "crawled_at": times[-1 - i][0]}) + "\n")
            t.write("time-%d\t%s\t%s\n" % (i, want, times[-1 - i][1]))
PY
n=$(wc -l <"$T/expect.tsv")
produce events "$T/events.jsonl" 2>"$T/p.log" && pass "produced $n hostile-string events and $(wc -l <"$T/times.tsv") times" || fail "produce" "$(tail -n 3 "$T/p.log")"
eval "$(consumer_cmd) -t events --drain" 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && pass "consumer drained" || fail "consumer" "exit $rc: $(tail -n 3 "$T/c.log")"
[ "$(psql_q "SELECT to_regclass('events') IS NOT NULL AND to_regclass('kafka_offsets') IS NOT NULL")" = t ] &&
  pass "tables still exist" || fail "tables" "missing"
psql -X -q -t -A -F "$(printf '\t')" -d shoal -c \
  "SELECT id, encode(convert_to(title, 'UTF8'), 'hex'), encode(convert_to(body, 'UTF8'), 'hex') FROM events
   WHERE id LIKE 'nasty-%' ORDER BY id" \
  >"$T/got.tsv"
sort "$T/expect.tsv" >"$T/want.tsv"
sort "$T/got.tsv" >"$T/got.sorted"
if cmp -s "$T/want.tsv" "$T/got.sorted"; then
  pass "$n titles and texts read back byte-identical"
else
  fail "byte-identical" "$(diff "$T/want.tsv" "$T/got.sorted" | cut -c1-200 | head -n 6)"
fi
psql -X -q -t -A -F "$(printf '\t')" -d shoal -c \
  "SELECT id, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
          to_char(crawled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
   FROM events WHERE id LIKE 'time-%' ORDER BY id" >"$T/times.got"
if cmp -s "$T/times.tsv" "$T/times.got"; then
  pass "published_at and crawled_at read back to the microsecond"
else
  fail "times" "$(diff "$T/times.tsv" "$T/times.got" | head -n 6)"
fi
src=$(psql_q "SELECT count(*) FROM events WHERE source = 'quote''\"\\src'")
[ "$src" = "$n" ] && pass "sources with quotes and backslash intact" || fail "source" "$src of $n"
tags=$(psql_q "SELECT count(*) FROM events WHERE tags->>0 = left(title, 60)")
[ "$tags" = "$n" ] && pass "tags (jsonb) intact" || fail "tags" "$tags of $n"
dead=$(psql_q "SELECT count(*) FROM dead_letters")
[ "$dead" = 0 ] && pass "no hostile string dead-lettered" || fail "dead letters" "$(psql_q 'SELECT error_message FROM dead_letters LIMIT 3')"
exit $FAILED
