# Secrets never leave the process: the database password (in a connection
# string read from SHOAL_DB_FILE), a SASL password from the config file (and
# from SHOAL_KAFKA_SASL_PASSWORD_FILE) and an SSL key password from -X (and
# from SHOAL_KAFKA_SSL_KEY_PASSWORD) are known values; every output is searched
# for them: logs at debug level, --dump-config, the dead-letter topic's
# headers and values, and the database tables.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
pg_start
mock_start --brokers 1 --topic events:1 --topic events.dlq:1

DBPW=PgSecret-7f3a0c91
SASLPW=KafkaSecret-9c1e55d2
SSLPW=SslKeySecret-22b1e8aa
LLMKEY=LlmKeySecret-5d0c7e41
printf '%s\n' "$LLMKEY" >"$T/llm.secret"
fake_llm_start ok
printf '%s password=%s\n' "$DB" "$DBPW" >"$T/db.secret"
printf '%s\n' "$SASLPW" >"$T/sasl.secret"
chmod 600 "$T/db.secret" "$T/sasl.secret"
cat >"$T/shoal.conf" <<CONF
kafka.sasl.username = shoal
kafka.sasl.password = "$SASLPW"
CONF

head -n 5 tests/data/demo.jsonl >"$T/in.jsonl"
printf 'not json\n{"source":"x"}\n' >"$T/bad.txt"
SHOAL_KAFKA_SASL_PASSWORD_FILE="$T/sasl.secret" SHOAL_KAFKA_SSL_KEY_PASSWORD="$SSLPW" \
  produce events "$T/in.jsonl" \
  --set log.level=debug 2>"$T/producer.log" || fail "produce" "$(tail -n 3 "$T/producer.log")"
kcat -b "$BOOTSTRAP" -P -t events -l "$T/bad.txt" 2>"$T/kcat.log"

run() {
  SHOAL_DB_FILE="$T/db.secret" SHOAL_LLM_API_KEY_FILE="$T/llm.secret" "$BIN/shoal-consumer" -b "$BOOTSTRAP" \
    -t events --config "$T/shoal.conf" -X "ssl.key.password=$SSLPW" --set llm.url="$LLM_URL" $TEST_SESSION_OPTS "$@"
}
run --dump-config >"$T/dump.txt" 2>"$T/dump.log"
SHOAL_KAFKA_SASL_PASSWORD_FILE="$T/sasl.secret" SHOAL_KAFKA_SSL_KEY_PASSWORD="$SSLPW" \
  "$BIN/shoal-consumer" -b "$BOOTSTRAP" --dump-config >"$T/pdump.txt" 2>"$T/pdump.log"
grep -q '^kafka.sasl.password = \*\*\*' "$T/pdump.txt" && grep -q '^kafka.ssl.key.password = \*\*\*' "$T/pdump.txt" &&
  pass "SHOAL_KAFKA_*_PASSWORD[_FILE] are read, and masked" || fail "kafka secrets from env" "$(cat "$T/pdump.txt")"
grep -q '^db = \*\*\*  # env-file' "$T/dump.txt" && grep -q '^kafka.sasl.password = \*\*\*' "$T/dump.txt" &&
  grep -q '^kafka.ssl.key.password = \*\*\*' "$T/dump.txt" && grep -q '^llm.api.key = \*\*\*' "$T/dump.txt" &&
  pass "--dump-config shows the secrets as set, masked" || fail "dump-config" "$(cat "$T/dump.txt")"
run --drain --log-level debug 2>"$T/consumer.log"
rc=$?
[ $rc = 0 ] && pass "consumer ran with the secrets (password from SHOAL_DB_FILE)" || fail "consumer" "exit $rc: $(tail -n 3 "$T/consumer.log")"
[ "$(psql_q 'SELECT count(*) FROM events')" = 5 ] && [ "$(psql_q 'SELECT count(*) FROM dead_letters')" = 2 ] &&
  pass "5 stored, 2 dead-lettered" || fail "outcomes" "$(psql_q 'SELECT count(*) FROM events') events"

kcat -b "$BOOTSTRAP" -C -t events.dlq -e -J -q >"$T/dlq.json" 2>>"$T/kcat.log"
[ -s "$T/dlq.json" ] && pass "dead letters read back" || fail "dlq" "empty"
psql -X -q -t -A -d shoal -c "SELECT d::text FROM dead_letters d" -c "SELECT e::text FROM events e" \
  -c "SELECT k::text FROM kafka_offsets k" >"$T/tables.txt"
SHOAL_DB_FILE="$T/db.secret" "$BIN/shoal-consumer" --db "$DB password=$DBPW" --set batch.size=notanumber \
  --set db.connect.timeout.s=0 --dump-config >"$T/dump2.txt" 2>"$T/dump2.log"
for f in producer.log pdump.txt pdump.log dump.txt dump.log consumer.log dlq.json tables.txt dump2.txt dump2.log; do
  for s in "$DBPW" "$SASLPW" "$SSLPW" "$LLMKEY"; do
    if grep -qF "$s" "$T/$f"; then fail "no secret in $f" "found $(echo "$s" | cut -c1-6)..."; fi
  done
done
[ "$(fake_llm_stat requests)" -ge 5 ] && pass "the LLM (key from SHOAL_LLM_API_KEY_FILE) was called" || fail "llm" "$(fake_llm_stat requests) requests"
[ "$FAILED" = 0 ] && pass "no secret in logs, --dump-config, dead letters or tables"
grep -q '"level":"debug"' "$T/consumer.log" && pass "debug logging was on" || fail "debug" "no debug lines"
exit $FAILED
