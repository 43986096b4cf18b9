#!/bin/sh
# 00_mock_kafka: shoal-mock-kafka serves real clients in other processes
# (kcat, confluent_kafka), obeys broker down/up, and exits 0 promptly on
# stdin EOF and on SIGTERM.
#
# Standalone: BIN=path/to/bin sh tests/e2e/00_mock_kafka.sh
# Prints PASS/FAIL lines; exits non-zero if anything failed.
set -eu

BIN=${BIN:-bin}
MOCK=$BIN/shoal-mock-kafka
PY=/usr/bin/python3 # the python3 that has confluent_kafka

tmp=$(mktemp -d)
mock_pid=
fails=0

cleanup() {
    if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; }
fail() {
    echo "FAIL $1${2:+: $2}"
    fails=$((fails + 1))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Starts the mock reading commands from a FIFO held open on fd 3, so the
# script decides when stdin reaches EOF (closing fd 3). The mock must not
# inherit fd 3 itself, or it would never see EOF.
start_mock() {
    rm -f "$tmp/ctl" "$tmp/out" "$tmp/bootstrap"
    mkfifo "$tmp/ctl"
    exec 3<>"$tmp/ctl"
    "$MOCK" --brokers 3 --topic events:6 --topic audit:2 \
        --bootstrap-file "$tmp/bootstrap" \
        <"$tmp/ctl" >"$tmp/out" 2>>"$tmp/mock.log" 3>&- &
    mock_pid=$!
    i=0
    while [ ! -s "$tmp/bootstrap" ]; do
        i=$((i + 1))
        if [ $i -gt 500 ] || ! kill -0 "$mock_pid" 2>/dev/null; then
            echo "FAIL mock-start: no bootstrap file; mock log:"
            cat "$tmp/mock.log" >&2
            exit 1
        fi
        sleep 0.01
    done
    BS=$(cat "$tmp/bootstrap")
}

# Sends one control command and waits (max 3 s) for its reply line.
# Returns 0 on "ok ...", 1 otherwise; the reply is left in $reply.
ctl() {
    n=$(wc -l <"$tmp/out")
    printf '%s\n' "$1" >&3
    i=0
    while [ "$(wc -l <"$tmp/out")" -le "$n" ]; do
        i=$((i + 1))
        if [ $i -gt 300 ]; then
            reply="(no reply)"
            return 1
        fi
        sleep 0.01
    done
    reply=$(tail -n 1 "$tmp/out")
    case $reply in ok*) return 0 ;; *) return 1 ;; esac
}

# Waits up to 2 s for the mock to exit; sets $rc and $took_ms.
await_exit() {
    t0=$(now_ms)
    i=0
    while kill -0 "$mock_pid" 2>/dev/null && [ $i -lt 40 ]; do
        i=$((i + 1))
        sleep 0.05
    done
    took_ms=$(($(now_ms) - t0))
    if kill -0 "$mock_pid" 2>/dev/null; then
        rc=timeout
        kill -KILL "$mock_pid" 2>/dev/null || true
    else
        rc=0
        wait "$mock_pid" || rc=$?
    fi
    mock_pid=
}

count_events() {
    timeout 20 kcat -b "$BS" -C -t events -e -o beginning -q | wc -l
}

start_mock

# --- control protocol: every line gets one ok/err reply
if ctl bootstrap && [ "$reply" = "ok $BS" ] && [ "$(head -n 1 "$tmp/out")" = "$BS" ] &&
    ! ctl "no-such-command" && [ "${reply%% *}" = err ] &&
    ctl "error Produce NOT_LEADER_FOR_PARTITION 2" && ctl "clear"; then
    pass control-protocol
else
    fail control-protocol "last reply: $reply"
fi

# --- (1) metadata lists brokers and topics
md=$(timeout 10 kcat -b "$BS" -L 2>&1 || true)
if printf '%s\n' "$md" | grep -q ' 3 brokers:' &&
    printf '%s\n' "$md" | grep -q 'topic "events" with 6 partitions' &&
    printf '%s\n' "$md" | grep -q 'topic "audit" with 2 partitions'; then
    pass metadata
else
    fail metadata "$(printf '%s\n' "$md" | head -n 3)"
fi

# --- (2) kcat round trip
if seq 1 100 | timeout 20 kcat -b "$BS" -P -t events 2>"$tmp/kcat.err"; then
    got=$(count_events)
    sum=$(timeout 20 kcat -b "$BS" -C -t events -e -o beginning -q | awk '{s += $1} END {print s}')
    if [ "$got" -eq 100 ] && [ "$sum" -eq 5050 ]; then
        pass kcat-roundtrip
    else
        fail kcat-roundtrip "consumed $got messages (sum $sum), want 100 (sum 5050)"
    fi
else
    fail kcat-roundtrip "produce failed: $(tail -n 1 "$tmp/kcat.err")"
fi

# --- (3) confluent_kafka consumer in a group reads them all
cat >"$tmp/group.py" <<'EOF'
import sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "e2e-mock",
              "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 1000})
c.subscribe(["events"])
n, deadline = 0, time.time() + 30
while n < 100 and time.time() < deadline:
    m = c.poll(0.5)
    if m is not None and not m.error():
        n += 1
c.close()
print(n)
EOF
got=$(timeout 45 "$PY" "$tmp/group.py" "$BS" 2>"$tmp/py.err" || true)
if [ "$got" = 100 ]; then
    pass group-consumer
else
    fail group-consumer "read '${got}' of 100: $(tail -n 1 "$tmp/py.err")"
fi

# --- (4) all brokers down: produce fails; back up: produce succeeds
if ctl "all down" &&
    ! echo down | timeout 20 kcat -b "$BS" -P -t events -X message.timeout.ms=2000 2>/dev/null &&
    ctl "all up" &&
    echo up | timeout 20 kcat -b "$BS" -P -t events -X message.timeout.ms=15000 2>/dev/null &&
    [ "$(count_events)" -eq 101 ]; then
    pass broker-down-up
else
    fail broker-down-up "last reply: $reply"
fi

# --- stdout carries only the bootstrap line and replies
if tail -n +2 "$tmp/out" | grep -qv -e '^ok' -e '^err'; then
    fail stdout-clean "$(tail -n +2 "$tmp/out" | grep -v -e '^ok' -e '^err' | head -n 1)"
else
    pass stdout-clean
fi

# --- (5a) stdin EOF: exit 0 within 2 s
exec 3>&-
await_exit
if [ "$rc" = 0 ]; then
    pass exit-on-eof
else
    fail exit-on-eof "status $rc after ${took_ms} ms"
fi

# --- (5b) SIGTERM: exit 0 within 2 s, reason logged
start_mock
kill -TERM "$mock_pid"
await_exit
exec 3>&-
if [ "$rc" = 0 ] && grep -q 'received SIGTERM' "$tmp/mock.log"; then
    pass exit-on-sigterm
else
    fail exit-on-sigterm "status $rc after ${took_ms} ms"
fi

if [ "$fails" -gt 0 ]; then
    echo "mock log (tail):" >&2
    tail -n 20 "$tmp/mock.log" >&2
    exit 1
fi
