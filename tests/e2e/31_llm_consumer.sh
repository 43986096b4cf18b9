# LLM extraction on the real consumer, against the scripted fake LLM:
# answered events are stored with the LLM's extraction; a replay sends
# nothing to the LLM again; with the LLM down every event is stored through
# the built-in fallback (no dead letters); and an LLM answering after 15 s
# per call, with max.poll.interval.ms=10000, neither costs the consumer its
# group membership nor loses anything.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:3 --topic events.dlq:1 --topic down:3 --topic slow:3 --topic trickle:3
fake_llm_start ok
N=$(wc -l <tests/data/demo.jsonl)
count() { psql_q "SELECT count(*) FROM events WHERE kafka_topic = '$1' ${2:-}"; }

# 1. Answers are used.
produce events tests/data/demo.jsonl 2>"$T/p1.log" || fail "produce" "demo"
eval "$(consumer_cmd) -t events --drain --set llm.url=$LLM_URL --set llm.max.inflight=8" 2>"$T/c1.log"
rc=$?
[ $rc = 0 ] && pass "drain with the LLM exits 0" || fail "drain" "exit $rc: $(tail -n 2 "$T/c1.log")"
[ "$(count events)" = "$N" ] && pass "all $N events stored" || fail "stored" "$(count events)"
llm=$(count events "AND extracted_by LIKE 'llm%' AND extractor_version = 'llm-1'")
[ "$llm" = "$N" ] && pass "every event carries the LLM's extraction" || fail "extracted_by" "$llm of $N by the LLM"
calls=$(fake_llm_stat requests)
[ "$calls" = "$N" ] && pass "one LLM call per event ($calls)" || fail "calls" "$calls for $N events"
psql_q "SELECT extraction->'entities' FROM events WHERE kafka_topic='events' LIMIT 1" | grep -q '"name"' &&
  pass "the stored extraction has the LLM's entities" || fail "extraction" "no entities"

# 2. Replay: already stored, so no paid work is repeated.
"$BIN/shoal-consumer" replay --from-beginning -b "$BOOTSTRAP" -t events -g shoal --db "$DB" $TEST_SESSION_OPTS \
  --set llm.url="$LLM_URL" 2>"$T/r.log"
rc=$?
[ $rc = 0 ] && pass "replay exits 0" || fail "replay" "exit $rc"
after=$(fake_llm_stat requests)
[ "$after" = "$calls" ] && pass "replay sent no LLM request ($after in all)" || fail "replay calls" "$calls -> $after"
[ "$(count events)" = "$N" ] && pass "replay added no rows" || fail "replay rows" "$(count events)"

# 3. The LLM is down (nothing listens): the built-in extractor stores all.
# (Fresh events: ids already stored would be skipped before extraction.)
produce down --generate 100 --seed 5 2>"$T/p2.log"
eval "$(consumer_cmd) -t down -g g-down --drain --set llm.url=http://127.0.0.1:9/v1/chat/completions \
  --set llm.retries=1 --set llm.breaker.threshold=3" 2>"$T/c2.log"
rc=$?
[ $rc = 0 ] && pass "LLM down: drain exits 0" || fail "down drain" "exit $rc"
[ "$(count down "AND extracted_by = 'builtin'")" = 100 ] && pass "LLM down: every event stored by the fallback" ||
  fail "fallback" "$(count down "AND extracted_by = 'builtin'") of 100"
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 0 ] && pass "LLM down: nothing dead-lettered" ||
  fail "dead letters" "$(psql_q 'SELECT count(*) FROM dead_letters')"

# 3b. --reextract: the events the fallback stored are sent to the LLM again
# (it is up now), and their extraction, tags and facts are replaced.
fake_llm_mode ok
"$BIN/shoal-consumer" replay --from-beginning --reextract -b "$BOOTSTRAP" -t down -g g-down --db "$DB" \
  $TEST_SESSION_OPTS --set llm.url="$LLM_URL" --set llm.max.inflight=8 2>"$T/rx.log"
rc=$?
[ $rc = 0 ] && pass "replay --reextract exits 0" || fail "reextract" "exit $rc: $(tail -n 2 "$T/rx.log")"
[ "$(fake_llm_stat requests)" = 100 ] && pass "--reextract sends each stored event to the LLM once" ||
  fail "reextract calls" "$(fake_llm_stat requests)"
[ "$(count down "AND extracted_by LIKE 'llm%'")" = 100 ] && [ "$(count down)" = 100 ] &&
  pass "their stored extraction is replaced, no row added" || fail "replaced" "$(count down "AND extracted_by LIKE 'llm%'") of $(count down)"
tags=$(psql_q "SELECT count(*) FROM event_tags t JOIN events e ON e.id = t.event_id WHERE e.kafka_topic = 'down'")
want=$(psql_q "SELECT count(DISTINCT (id, tg)) FROM events, jsonb_array_elements_text(coalesce(extraction->'tags', '[]')) tg WHERE kafka_topic = 'down'")
[ "$tags" = "$want" ] && pass "event_tags follow the new extraction ($tags)" || fail "tags" "$tags vs $want"

# 3c. Every scripted misbehaviour: each event is stored (by the LLM or the
# fallback), nothing is dead-lettered, each run is bounded.
i=0
for mode in 429:1 500 hang close-idle malformed schema; do
  i=$((i + 1))
  fake_llm_mode "$mode"
  produce "m$i" --generate 10 --seed $((100 + i)) 2>>"$T/pm.log"
  start=$(now_ms)
  eval "$(consumer_cmd) -t m$i -g g-m$i --drain --set llm.url=$LLM_URL --set llm.timeout.ms=2000 \
    --set llm.batch.deadline.ms=4000 --set llm.retries=1" 2>"$T/cm$i.log"
  rc=$?
  took=$(( $(now_ms) - start ))
  stored=$(count "m$i")
  [ $rc = 0 ] && [ "$stored" = 10 ] && [ "$took" -lt 60000 ] &&
    pass "LLM $mode: all 10 stored, exit 0, bounded (${took} ms)" || fail "LLM $mode" "exit $rc, $stored stored, ${took} ms"
  case $mode in
    500|hang|malformed|schema) want=builtin ;;
    close-idle) want=llm:gpt-4o-mini ;;
    *) want="" ;;
  esac
  if [ -n "$want" ]; then
    [ "$(count "m$i" "AND extracted_by = '$want'")" = 10 ] && pass "LLM $mode: extracted_by $want" ||
      fail "LLM $mode extracted_by" "$(psql_q "SELECT extracted_by, count(*) FROM events WHERE kafka_topic = 'm$i' GROUP BY 1")"
  fi
done
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 0 ] && pass "no LLM failure was dead-lettered" ||
  fail "dead letters" "$(psql_q 'SELECT error_class, count(*) FROM dead_letters GROUP BY 1')"

# 4. 15 s per answer against max.poll.interval.ms=10000: polling goes on,
# the group stays stable, every event is stored with the LLM's answer. The
# 20 events take two full rounds of 10 concurrent calls: the first batch
# waits to fill (not eager with the LLM) and the second fills during the
# first round.
fake_llm_mode slow:15
produce slow --generate 20 --seed 6 2>"$T/p3.log"
start=$(now_ms)
eval "$(consumer_cmd) -t slow -g g-slow --drain -X max.poll.interval.ms=10000 --set batch.size=10 \
  --set llm.url=$LLM_URL --set llm.max.inflight=16 --set llm.timeout.ms=40000 --set llm.batch.deadline.ms=45000" 2>"$T/c3.log"
rc=$?
took=$(( $(now_ms) - start ))
echo "slow run took ${took} ms"
# Rounds: arrivals more than 7.5 s apart (half an answer) start a new one.
rounds=$(/usr/bin/python3 -c 'import json,sys,urllib.request
a = json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=5))["arrivals"]
r = []
for t in sorted(a):
    if not r or t - r[-1][0] > 7.5: r.append([t, 0])
    r[-1][1] += 1
print(" ".join(str(n) for _, n in r))' "$LLM_BASE")
[ "$rounds" = "10 10" ] && pass "two rounds of 10 concurrent calls (batch.size=10)" || fail "rounds" "calls per round: $rounds"
[ $rc = 0 ] && pass "slow LLM: drain exits 0" || fail "slow drain" "exit $rc: $(tail -n 2 "$T/c3.log")"
[ "$took" -ge 30000 ] && pass "the run did wait for the slow answers (two rounds, ${took} ms)" || fail "slow" "${took} ms"
[ "$(count slow "AND extracted_by LIKE 'llm%'")" = 20 ] && pass "slow LLM: all 20 stored with the LLM's answer" ||
  fail "slow stored" "$(count slow "AND extracted_by LIKE 'llm%'")"
grep -qi 'max.poll.interval\|MAXPOLL' "$T/c3.log" && fail "max.poll.interval" "$(grep -i 'maxpoll\|max.poll' "$T/c3.log" | head -n 2)" ||
  pass "no max.poll.interval.ms violation logged"
lost=$(grep -c '"msg":"partition lost"' "$T/c3.log")
revoked=$(grep -c '"msg":"partition revoked"' "$T/c3.log")
assigned=$(grep -c '"msg":"partition assigned"' "$T/c3.log")
[ "$lost" = 0 ] && [ "$revoked" -le 3 ] && [ "$assigned" = 3 ] &&
  pass "no rebalance during the slow batches (3 assigned once, revoked only when leaving)" ||
  fail "rebalances" "assigned=$assigned revoked=$revoked lost=$lost"
ends=$(topic_end_offsets_sum slow)
stored=$(psql_q "SELECT sum(next_offset) FROM kafka_offsets WHERE consumer_group='g-slow'")
[ "$stored" = "$ends" ] && pass "slow LLM: offsets at the end" || fail "offsets" "$stored vs $ends"

# 5. Events trickling in while a batch fills: nothing goes to the LLM before
# the batch does (the loop prepares batches ahead only for the built-in
# extractor: an LLM wait there would set the messages polled meanwhile aside
# for a later batch, and split the rounds). 20 events at 4/s into a batch
# that waits 10 s: one round of 20 calls.
fake_llm_mode slow:1
eval "$(consumer_cmd) -t trickle -g g-trickle --drain --set batch.timeout.ms=10000 \
  --set llm.url=$LLM_URL --set llm.max.inflight=32" 2>"$T/c5.log" &
cpid=$!
produce trickle --generate 20 --seed 8 --rate 4 2>"$T/p5.log"
wait $cpid
rc=$?
inflight=$(fake_llm_stat max_in_flight)
[ $rc = 0 ] && [ "$(count trickle "AND extracted_by LIKE 'llm%'")" = 20 ] &&
  pass "trickling events: all 20 stored with the LLM's answer" || fail "trickle" "exit $rc, $(count trickle) stored"
[ "$inflight" = 20 ] && pass "trickling events: one round of 20 calls, at the flush" ||
  fail "trickle rounds" "at most $inflight calls at once: $(tail -n 1 "$T/c5.log")"
exit $FAILED
