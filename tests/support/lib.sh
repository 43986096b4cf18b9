# Shared shell functions for end-to-end tests, demo and benchmarks.
# Source it; call harness_init first. Everything started is stopped by the
# EXIT trap, on success or failure.
#
#   harness_init          temp dir $T, cleanup trap, $BIN (default bin)
#   pg_start              throwaway PostgreSQL; sets $DB (conninfo), $PGHOST, $PGPORT
#   pg_stop / pg_restart_immediate
#   mock_start ARGS...    shoal-mock-kafka; sets $BOOTSTRAP; mock_cmd "broker down 1"
#   psql_q SQL            one value from the database
#   pg_reject_poison_rows    PostgreSQL rejects rows titled POISON-ROW
#   wait_rows_above N S [PID]  until events has more than N rows (S seconds)
#   rand_below N / rand_sleep MS  random numbers and delays for fault injection
#   pass NAME / fail NAME MSG / check NAME COND-COMMAND...

BIN=${BIN:-bin}
TEST_SESSION_OPTS="-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000"

harness_init() {
  T=$(mktemp -d /tmp/shoal-test.XXXXXX)
  chmod 755 "$T"
  HARNESS_PIDS=""
  PG_DIR=""
  trap harness_cleanup EXIT
  trap 'exit 130' INT TERM
}

harness_track() { HARNESS_PIDS="$HARNESS_PIDS $1"; }

harness_cleanup() {
  rc=$?
  for p in $HARNESS_PIDS; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${MOCK_FD_OPEN:-}" ] && exec 9>&- 2>/dev/null
  pg_stop
  # Keep the processes' logs of a failed script for the reader of CI output
  # (not mock.in: cp would block reading the FIFO).
  if [ -n "${KEEP_LOGS:-}" ] && { [ $rc != 0 ] || [ "${FAILED:-0}" != 0 ]; }; then
    mkdir -p "$KEEP_LOGS" && cp "$T"/*.log "$T"/mock.out "$KEEP_LOGS"/ 2>/dev/null
  fi
  rm -rf "$T"
  exit $rc
}

pass() { printf "PASS %s\n" "$1"; }
fail() { printf "FAIL %s: %s\n" "$1" "$2"; FAILED=1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

pg_start() {
  PGB=$(pg_bin)
  PG_DIR="$T/pg"
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  as_pg "$PGB/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >"$T/initdb.log" 2>&1 ||
    { cat "$T/initdb.log" >&2; return 1; }
  PGPORT=$(( 20000 + $$ % 20000 ))
  cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_DIR'
port = $PGPORT
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
CONF
  as_pg "$PGB/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 start >/dev/null ||
    { cat "$PG_DIR/log" >&2; return 1; }
  PGHOST="$PG_DIR"
  export PGHOST PGPORT
  export PGUSER=postgres
  psql -q -d postgres -c "CREATE DATABASE shoal" >/dev/null
  DB="host=$PG_DIR port=$PGPORT user=postgres dbname=shoal"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] &&
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 stop >/dev/null 2>&1
  return 0
}

pg_restart_immediate() {
  as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 restart -l "$PG_DIR/log" >/dev/null
}

psql_q() { psql -X -q -t -A -d shoal -c "$1"; }

# A gate for holding another session's transaction open at a chosen point.
# gate_hold KEY: a session (application name "gate") holds advisory lock KEY
# until gate_open. gate_behind KEY LOG: the SQL on stdin runs in a
# transaction that then waits at the gate before it commits (its pid in
# GATED_PID, its output in LOG).
# consumer_through_gate SECS LOG WHAT ARGS...: a consumer (consumer_cmd
# ARGS, stderr to LOG) in the background must come to wait for the gated
# transaction (the check WHAT passes or fails); then the gate opens and the
# gated session commits. Returns the consumer's exit status (124: still
# running SECS seconds later, then sent SIGTERM).
gate_sessions_are() { # KEY granted|'NOT granted' N
  [ "$(psql -X -t -A -d shoal -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND $2")" = "$3" ]
}
gate_hold() {
  psql -X -q -d shoal -c "SET application_name = 'gate'" -c "SELECT pg_advisory_lock($1), pg_sleep(120)" \
    >/dev/null 2>&1 &
  wait_for 10 gate_sessions_are "$1" granted 1
}
gate_behind() {
  sql=$(cat) # read here: an asynchronous list's stdin is /dev/null
  printf 'BEGIN;\n%s\nSELECT pg_advisory_lock(%s);\nCOMMIT;\n' "$sql" "$1" | psql -X -q -d shoal >"$2" 2>&1 &
  GATED_PID=$! GATED_LOG=$2
  wait_for 10 gate_sessions_are "$1" "NOT granted" 1
}
gate_open() {
  psql -X -q -t -A -d shoal -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gate'" >/dev/null
}
lock_waiter_present() {
  [ "$(psql -X -t -A -d shoal -c "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted")" -ge 1 ]
}

consumer_through_gate() {
  secs=$1 log=$2 what=$3
  shift 3
  eval "$(consumer_cmd) $*" 2>"$log" &
  cpid=$!
  # some session waits for another's transaction (a row or key it changed)
  if wait_for 60 lock_waiter_present; then pass "$what"; else fail "$what" "no session waited: $(tail -n 2 "$log")"; fi
  gate_open
  wait "$GATED_PID" || fail "gated session" "$(cat "$GATED_LOG")"
  if wait_for "$secs" sh -c "! kill -0 $cpid"; then
    wait "$cpid"
    return
  fi
  kill -TERM "$cpid"
  wait "$cpid"
  return 124
}

# After migrate: PostgreSQL rejects (SQLSTATE 23514) every row whose title
# contains POISON-ROW, a constraint the validator cannot know about, as a
# real deployment's would be.
pg_reject_poison_rows() {
  psql -X -q -d shoal <<'SQL'
CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.title LIKE '%POISON-ROW%' THEN
    RAISE EXCEPTION 'title rejected by policy' USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER reject_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION reject_poison();
SQL
}

# The corpus tests' setup: a throwaway PostgreSQL, and a mock cluster with
# topic events (3 partitions, or $1) and its dead-letter topic events.dlq.
events_start() { pg_start && mock_start --brokers 1 --topic "events:${1:-3}" --topic events.dlq:1; }

# consume_corpus FILE...: the files produced to events, then consumed with
# --drain into PostgreSQL; a PASS or FAIL line for each step.
consume_corpus() {
  if produce events "$@" 2>"$T/producer.log"; then pass "producer delivered $*"
  else fail "producer" "$(tail -n 2 "$T/producer.log")"; fi
  eval "$(consumer_cmd) -t events --drain" 2>"$T/consumer.log"
  cc_rc=$?
  [ $cc_rc = 0 ] && pass "consumer --drain exits 0" || fail "consumer --drain" "exit $cc_rc: $(tail -n 3 "$T/consumer.log")"
}

# mock_start --brokers 3 --topic events:6 ... (MOCK_WRAP: a command to run
# it under, e.g. "ip netns exec NAME")
mock_start() {
  mkfifo "$T/mock.in"
  ${MOCK_WRAP:-} "$BIN/shoal-mock-kafka" --bootstrap-file "$T/bootstrap" "$@" <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.log" &
  MOCK_PID=$!
  harness_track $MOCK_PID
  exec 9>"$T/mock.in"
  MOCK_FD_OPEN=1
  i=0
  while [ ! -s "$T/bootstrap" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "mock cluster did not start" >&2; cat "$T/mock.log" >&2; return 1; }
    sleep 0.1
  done
  BOOTSTRAP=$(cat "$T/bootstrap")
}

# Sends one control command and waits for its one-line answer.
mock_cmd() {
  before=$(wc -l <"$T/mock.out")
  echo "$*" >&9
  i=0
  while [ "$(wc -l <"$T/mock.out")" -le "$before" ]; do
    i=$((i + 1)); [ $i -gt 50 ] && return 1
    sleep 0.1
  done
  tail -n 1 "$T/mock.out"
}

# Waits until a command succeeds, up to N seconds.
wait_for() {
  n=$1; shift
  i=0
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt $((n * 10)) ] && return 1
    sleep 0.1
  done
}

consumer_cmd() {
  echo "$BIN/shoal-consumer -b $BOOTSTRAP -g ${GROUP:-shoal} --db \"$DB\" $TEST_SESSION_OPTS"
}

# Runs the producer on files/stdin into a topic; extra args pass through.
produce() { topic=$1; shift; "$BIN/shoal-producer" -b "$BOOTSTRAP" -t "$topic" "$@"; }

# End offsets summed over a topic's partitions, via kcat metadata-free query.
topic_end_offsets_sum() {
  /usr/bin/python3 - "$BOOTSTRAP" "$1" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "shoal-probe"})
md = c.list_topics(sys.argv[2], timeout=10)
total = 0
for p in md.topics[sys.argv[2]].partitions:
    lo, hi = c.get_watermark_offsets(TopicPartition(sys.argv[2], p), timeout=10)
    total += hi
c.close()
print(total)
PY
}

# Stops/starts the existing throwaway server (an outage, not a wipe).
pg_down() { as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 stop >/dev/null; }
pg_up() { as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 start >/dev/null; }

# Starts a consumer in the background (exec, so $! is the consumer itself).
# Usage: consumer_bg LOGFILE ARGS...; sets CONSUMER_PID.
consumer_bg() {
  log=$1; shift
  eval "exec $(consumer_cmd) $*" 2>>"$log" &
  CONSUMER_PID=$!
  harness_track $CONSUMER_PID
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Starts tests/support/fake_llm.py (mode MODE, default ok) on a free port;
# sets LLM_URL (the completions endpoint) and LLM_BASE (for /stats, /control).
fake_llm_start() {
  /usr/bin/python3 tests/support/fake_llm.py --mode "${1:-ok}" >"$T/fake_llm.out" 2>"$T/fake_llm.log" &
  harness_track $!
  wait_for 10 test -s "$T/fake_llm.out" || { fail "fake_llm" "no port"; return 1; }
  LLM_BASE="http://127.0.0.1:$(head -n 1 "$T/fake_llm.out")"
  LLM_URL="$LLM_BASE/v1/chat/completions"
}

# fake_llm_stat KEY: one number from the fake's /stats.
fake_llm_stat() {
  /usr/bin/python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/stats", timeout=5))[sys.argv[2]])' "$LLM_BASE" "$1"
}

# fake_llm_mode MODE: switches the fake's answers and zeroes its counters.
fake_llm_mode() {
  /usr/bin/python3 -c 'import json,sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/control", data=json.dumps({"mode": sys.argv[2], "reset": True}).encode(), method="POST"), timeout=5).read()' "$LLM_BASE" "$1"
}

# A random integer in [0, N), from /dev/urandom.
rand_below() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }

# Sleeps a random time in [0, MS] ms, so an injected fault lands anywhere in
# a batch's life (mid-COPY, before COMMIT, between COMMIT and the Kafka
# mirror commit...).
rand_sleep() { sleep "$(awk -v ms="$(rand_below $(($1 + 1)))" 'BEGIN { printf "%.3f", ms / 1000 }')"; }

# Waits until the events table has more than N rows, up to S seconds; fails
# early when PID (optional) is no longer running.
wait_rows_above() {
  i=0
  while [ "$(psql_q 'SELECT count(*) FROM events' 2>/dev/null || echo -1)" -le "$1" ]; do
    i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1
    [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && return 1
    sleep 0.1
  done
}
