# SIGHUP reload: a running consumer re-reads its config file (flags still
# win) and applies the reloadable settings between batches: log.level
# (debug lines appear, then disappear), log.format, batch.size and
# batch.timeout.ms (batches of exactly the new size: batch.eager is off,
# so a batch does not go early to a free writer), also between flush
# retries during a database outage (retry.backoff.max.ms); a changed
# non-reloadable setting (topics) is reported as needing a restart and not
# applied; a broken file (unknown key) is rejected as file:line, keeps the
# running settings and the consumer keeps storing events. The producer
# survives SIGHUP in its long-running modes (--rate, stdin, crawl, where it
# reloads log.level).
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:1 --topic events.dlq:1 --topic other:1

CONF="$T/shoal.conf"
LOG="$T/c.log"
rows() { psql_q "SELECT count(*) FROM events" 2>/dev/null || echo -1; }
rows_are() { [ "$(rows)" = "$1" ]; }
count() { grep -c "$1" "$2"; }
# Sends SIGHUP to PID and waits until LOG has one more line matching PATTERN.
hup_and_wait() {
  before=$(count "$3" "$2")
  kill -HUP "$1"
  wait_for 30 sh -c "[ \$(grep -c '$3' '$2') -gt $before ]"
}

cat >"$CONF" <<EOF
topics = events
group = from-the-file
log.level = info
batch.size = 1000
batch.timeout.ms = 200
batch.eager = false
EOF
consumer_bg "$LOG" --config "$CONF" --set http.listen=127.0.0.1:0
wait_for 60 grep -q '"msg":"partition assigned"' "$LOG" || fail "start" "$(tail -n 5 "$LOG")"
produce events --generate 5 --seed 1 2>>"$T/p.log"
wait_for 60 rows_are 5 && pass "5 events stored at log.level=info" || fail "first events" "$(rows) rows"
[ "$(count 'batch persisted' "$LOG")" = 0 ] && pass "no debug lines at info" || fail "debug at info" "$(grep 'batch persisted' "$LOG" | head -n 2)"

# 1. Reloadable changes apply; topics needs a restart; group is a flag (-g)
#    in consumer_cmd and still wins over the file.
cat >"$CONF" <<EOF
topics = other
group = changed-in-the-file
log.level = debug
batch.size = 3
batch.timeout.ms = 60000
batch.eager = false
EOF
hup_and_wait "$CONSUMER_PID" "$LOG" '"msg":"configuration reloaded"' || fail "reload 1" "no reload logged"
grep -q '"msg":"setting reloaded","setting":"log.level","old":"info","new":"debug"' "$LOG" &&
  grep -q '"msg":"setting reloaded","setting":"batch.size","old":"1000","new":"3"' "$LOG" &&
  grep -q '"msg":"setting reloaded","setting":"batch.timeout.ms","old":"200","new":"60000"' "$LOG" &&
  pass "each reloaded setting logged once with old and new value" || fail "reloaded lines" "$(grep 'reload' "$LOG")"
[ "$(count '"msg":"setting reloaded"' "$LOG")" = 3 ] || fail "reloaded once" "$(grep 'setting reloaded' "$LOG")"
grep -q '"msg":"setting changed but needs a restart; keeping the running value","setting":"topics","running":"events","new":"other"' "$LOG" &&
  pass "changed topics reported as needing a restart" || fail "topics restart" "$(grep 'restart' "$LOG")"
grep -q '"setting":"group"' "$LOG" && fail "group" "the -g flag should still win over the file" ||
  pass "a flag still wins over the reloaded file (group unchanged)"

# batch.size 3 with a 60 s batch timeout: 7 events give two batches of 3,
# the seventh waits for company.
produce events --generate 7 --seed 2 2>>"$T/p.log"
produce other --generate 2 --seed 6 2>>"$T/p.log"
wait_for 60 rows_are 11 && pass "two full batches of the new batch.size stored" || fail "batch.size" "$(rows) rows"
sleep 3
[ "$(rows)" = 11 ] && pass "the seventh event waits: the batch is not full and batch.timeout.ms is 60 s" ||
  fail "held event" "$(rows) rows"
[ "$(count '"msg":"batch persisted","messages":"3"' "$LOG")" = 2 ] &&
  [ "$(count '"msg":"batch persisted"' "$LOG")" = 2 ] &&
  pass "debug lines appear: two batches of 3" || fail "debug lines" "$(grep 'batch persisted' "$LOG")"
produce events --generate 2 --seed 3 2>>"$T/p.log"
wait_for 60 rows_are 14 && pass "the third batch fills at 3" || fail "third batch" "$(rows) rows"

# 2. Back to info, and logfmt: debug lines disappear.
cat >"$CONF" <<EOF
topics = other
log.level = info
log.format = logfmt
batch.size = 1000
batch.timeout.ms = 200
batch.eager = false
EOF
hup_and_wait "$CONSUMER_PID" "$LOG" '"msg":"configuration reloaded"' || fail "reload 2" "no reload logged"
debug_before=$(count 'batch persisted' "$LOG")
produce events --generate 3 --seed 4 2>>"$T/p.log"
wait_for 60 rows_are 17 && pass "events stored after switching back to info" || fail "info again" "$(rows) rows"
[ "$(count 'batch persisted' "$LOG")" = "$debug_before" ] && pass "debug lines disappear at info" ||
  fail "debug after info" "$(grep 'batch persisted' "$LOG" | tail -n 2)"

# 3. During an outage the consumer waits between flush attempts: a reload
#    there applies too (retry.backoff.max.ms), and the batch is stored once
#    the database is back.
# The harness runs PostgreSQL with synchronous_commit=off: without a
# checkpoint an immediate stop may lose the last acknowledged commits, which
# this running consumer would not redo.
psql_q "CHECKPOINT" >/dev/null
pg_down
produce events --generate 3 --seed 8 2>>"$T/p.log"
wait_for 60 grep -q 'msg="batch not persisted; pausing and retrying"' "$LOG" || fail "outage" "no retry logged"
sed -i 's/^batch.timeout.ms = 200$/batch.timeout.ms = 200\nretry.backoff.max.ms = 1000/' "$CONF"
hup_and_wait "$CONSUMER_PID" "$LOG" 'msg="configuration reloaded"' &&
  grep -q 'msg="setting reloaded" setting=retry.backoff.max.ms old=10000 new=1000' "$LOG" &&
  [ "$(rows)" = -1 ] && pass "reloaded between flush attempts while the database is down" ||
  fail "reload in back-off" "$(grep 'reload' "$LOG" | tail -n 3)"
pg_up
wait_for 90 rows_are 20 && pass "the retried batch is stored once the database is back" || fail "after outage" "$(rows) rows"

# 4. A broken file: rejected as file:line, nothing of it applied (not even
#    log.level on the line before the bad one); the consumer keeps going.
cat >"$CONF" <<EOF
log.level = debug
batch.size = 2
topics = other
batch.sise = 5
EOF
hup_and_wait "$CONSUMER_PID" "$LOG" 'configuration reload failed' || fail "reload 3" "no failure logged"
grep -q "^ts=.* level=error component=consumer msg=\"configuration reload failed; keeping the running configuration\" error=\".*shoal.conf:4: unknown setting" "$LOG" &&
  pass "unknown key rejected as file:line, logged in logfmt (log.format was applied)" ||
  fail "broken file" "$(grep 'reload failed' "$LOG")"
produce events --generate 3 --seed 5 2>>"$T/p.log"
wait_for 60 rows_are 23 && pass "the consumer keeps storing events after a failed reload" || fail "after failure" "$(rows) rows"
[ "$(count 'batch persisted' "$LOG")" = "$debug_before" ] && pass "the failed reload left log.level at info" ||
  fail "log.level after failure" "$(grep 'batch persisted' "$LOG" | tail -n 2)"
[ "$(psql_q "SELECT count(*) FROM events WHERE id LIKE 'gen-6-%'")" = 0 ] &&
  pass "topics was not applied: events on the other topic never consumed" || fail "topics applied" "other consumed"
kill -0 "$CONSUMER_PID" 2>/dev/null && pass "the consumer survived every SIGHUP" || fail "consumer died" "$(tail -n 5 "$LOG")"
kill -TERM "$CONSUMER_PID"
wait "$CONSUMER_PID"
rc=$?
[ $rc = 0 ] && pass "SIGTERM after reloads still exits 0" || fail "exit" "$rc: $(tail -n 3 "$LOG")"

# 5. The producer: SIGHUP no longer terminates it.
"$BIN/shoal-producer" -b "$BOOTSTRAP" -t other --generate 40 --seed 7 --rate 10 2>"$T/rate.log" &
PP=$!
harness_track $PP
sleep 1
kill -HUP $PP
wait $PP
rc=$?
[ $rc = 0 ] && grep -q '"msg":"summary","read":"40"' "$T/rate.log" &&
  pass "producer --rate: SIGHUP ignored, all 40 delivered" || fail "producer --rate" "exit $rc: $(tail -n 2 "$T/rate.log")"

# stdin mode: a blocking read is not cut short by SIGHUP (SA_RESTART).
mkfifo "$T/in"
"$BIN/shoal-producer" -b "$BOOTSTRAP" -t other <"$T/in" 2>"$T/stdin.log" &
PP=$!
harness_track $PP
exec 8>"$T/in"
head -n 2 tests/data/demo.jsonl >&8
sleep 1
kill -HUP $PP
sleep 0.5
sed -n 3,4p tests/data/demo.jsonl >&8
exec 8>&-
wait $PP
rc=$?
[ $rc = 0 ] && grep -q '"msg":"summary","read":"4"' "$T/stdin.log" &&
  pass "producer reading stdin: SIGHUP neither kills it nor ends the input" || fail "producer stdin" "exit $rc: $(tail -n 2 "$T/stdin.log")"

# crawl: reloads log.level from its config file; kafka.timeout.ms needs a restart.
printf 'http://127.0.0.1:1/feed  nowhere\n' >"$T/sources.txt"
printf 'log.level = info\n' >"$T/crawl.conf"
"$BIN/shoal-producer" crawl -b "$BOOTSTRAP" -t other --sources "$T/sources.txt" --state "$T/crawl.state" \
  --interval 1 --config "$T/crawl.conf" 2>"$T/crawl.log" &
CP=$!
harness_track $CP
wait_for 30 grep -q '"msg":"crawl cycle"' "$T/crawl.log" || fail "crawl start" "$(tail -n 3 "$T/crawl.log")"
printf 'log.level = debug\nkafka.timeout.ms = 5000\ngroup = not-the-producers\n' >"$T/crawl.conf"
hup_and_wait $CP "$T/crawl.log" '"msg":"configuration reloaded"' || fail "crawl reload" "no reload logged"
grep -q '"msg":"setting reloaded","setting":"log.level","old":"info","new":"debug"' "$T/crawl.log" &&
  grep -q '"setting":"kafka.timeout.ms","running":"10000","new":"5000"' "$T/crawl.log" &&
  ! grep -q '"setting":"group"' "$T/crawl.log" &&
  pass "crawl: SIGHUP reloads log.level, reports kafka.timeout.ms, ignores consumer settings" ||
  fail "crawl reload" "$(grep -i 'reload\|restart' "$T/crawl.log")"
kill -0 $CP 2>/dev/null && pass "crawl survives SIGHUP" || fail "crawl died" "$(tail -n 3 "$T/crawl.log")"
kill -TERM $CP
wait $CP
rc=$?
[ $rc = 0 ] && pass "crawl still stops cleanly on SIGTERM" || fail "crawl exit" "$rc"
exit $FAILED
