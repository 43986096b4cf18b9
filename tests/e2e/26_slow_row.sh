# The statement-timeout rule: a write that times out is retried as a
# transient fault; after FAULT_TIMEOUT_ATTEMPTS_MAX (3) timeouts in a row the
# rows are tried one by one, and the row that times out on its own is
# dead-lettered (class statement_timeout, stage persist). Every other row is
# stored and the partition moves on.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:1 --topic events.dlq:1
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/migrate.log" || fail "migrate" "$(tail -n 2 "$T/migrate.log")"
# One row that always takes longer than the statement timeout.
psql -X -q -d shoal <<'SQL'
CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.title LIKE '%SLOW-ROW%' THEN PERFORM pg_sleep(5); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER slow_row BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_row();
SQL
/usr/bin/python3 - >"$T/events.jsonl" <<'PY'
import json
for i in range(100):
    title = "SLOW-ROW 42" if i == 42 else f"Story {i} about markets"
    print(json.dumps({"id": f"s-{i}", "source": f"src{i % 7}.example", "title": title,
                      "text": "Body text for the event.", "published_at": "2024-10-02T10:00:00Z"}))
PY
produce events "$T/events.jsonl" 2>"$T/producer.log" || fail "produce" "$(tail -n 2 "$T/producer.log")"
eval "$(consumer_cmd) -t events --drain --set db.statement.timeout.ms=1000 --set retry.backoff.ms=50 \
  --set retry.backoff.max.ms=200" 2>"$T/c.log"
rc=$?
[ $rc = 0 ] && pass "consumer drains past the slow row" || fail "consumer" "exit $rc: $(tail -n 2 "$T/c.log")"
[ "$(psql_q "SELECT count(*) FROM events")" = 99 ] && pass "the 99 other rows are stored" ||
  fail "rows" "$(psql_q "SELECT count(*) FROM events")"
[ "$(psql_q "SELECT count(*) FROM dead_letters WHERE error_class = 'statement_timeout' AND error_stage = 'persist' AND kafka_offset = 42")" = 1 ] &&
  pass "the slow row is dead-lettered as statement_timeout" || fail "dead letter" "$(psql_q 'SELECT error_class, kafka_offset, error_message FROM dead_letters')"
[ "$(psql_q "SELECT count(*) FROM dead_letters")" = 1 ] && pass "nothing else dead-lettered" || fail "dead letters" "$(psql_q 'SELECT count(*) FROM dead_letters')"
retries=$(grep -c '"msg":"batch not persisted; pausing and retrying"' "$T/c.log")
# Timeouts 1 and 2 are retried; the third leads to the row-by-row pass.
[ "$retries" = 2 ] && pass "the first two timeouts were retried as transient" || fail "retries" "$retries"
kcat -C -b "$BOOTSTRAP" -t events.dlq -e -f '%h\n' 2>/dev/null | grep -q 'shoal.error.class=statement_timeout' &&
  pass "the dead letter's header names the class" || fail "header" "$(kcat -C -b "$BOOTSTRAP" -t events.dlq -e -f '%h\n' 2>/dev/null)"
[ "$(psql_q "SELECT sum(next_offset) FROM kafka_offsets")" = 100 ] && pass "offset moved past every message" || fail "offsets" "$(psql_q 'SELECT sum(next_offset) FROM kafka_offsets')"
grep -q '"msg":"message dead-lettered","topic":"events","partition":"0","offset":"42","event_id":"s-42","error_class":"statement_timeout"' "$T/c.log" &&
  pass "the log line names topic, partition, offset and event id" || fail "log" "$(grep 'dead-lettered' "$T/c.log")"
exit $FAILED
