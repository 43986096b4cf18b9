# A consumer whose host vanishes (its network gone, nothing closed) while it
# holds the clustering lock: the server drops its session once its TCP
# keepalives go unanswered, so the lock is free for the other instances
# within a minute instead of the system's two hours. The consumer and its
# broker run in a network namespace of their own, and taking the
# namespace's link down is the vanishing. Needs root and network
# namespaces; without them the script says so and checks nothing.
set -u
. tests/support/lib.sh
harness_init
FAILED=0
NS=shoal$$
VETH=shv$$
NET=10.213.$(($$ % 250))
ns_cleanup() { ip netns del "$NS" 2>/dev/null; ip link del "$VETH" 2>/dev/null; }
trap 'rc=$?; ns_cleanup; (exit $rc); harness_cleanup' EXIT
if ! { ip netns add "$NS" && ip link add "$VETH" type veth peer name eth0 netns "$NS" &&
  ip addr add "$NET.1/30" dev "$VETH" && ip link set "$VETH" up &&
  ip netns exec "$NS" ip addr add "$NET.2/30" dev eth0 && ip netns exec "$NS" ip link set eth0 up &&
  ip netns exec "$NS" ip link set lo up; } 2>"$T/ns.log"; then
  echo "SKIP no network namespaces here: $(tail -n 1 "$T/ns.log")"
  exit 0
fi
IN_NS="ip netns exec $NS"

pg_start
printf "listen_addresses = '%s'\n" "$NET.1" | as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null
echo "host all all $NET.0/30 trust" | as_pg tee -a "$PG_DIR/data/pg_hba.conf" >/dev/null
pg_restart_immediate || fail "postgres" "no restart on $NET.1"
MOCK_WRAP=$IN_NS mock_start --brokers 1 --topic events:12 --topic events.dlq:1
$IN_NS "$BIN/shoal-consumer" migrate --db "$DB" 2>/dev/null
$IN_NS "$BIN/shoal-producer" -b "$BOOTSTRAP" -t events --generate 40000 --seed 11 2>"$T/p.log" ||
  fail "produce" "$(tail -n 2 "$T/p.log")"
$IN_NS "$BIN/shoal-consumer" -b "$BOOTSTRAP" -g ga --db "host=$NET.1 port=$PGPORT user=postgres dbname=shoal" \
  $TEST_SESSION_OPTS -t events 2>"$T/a.log" &
A=$!
harness_track $A

# The lock as the server sees it: held by a session, not waited for.
KEY=7385610302
holder() {
  psql_q "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ($KEY >> 32)::oid
    AND objid = ($KEY & 4294967295)::oid AND objsubid = 1"
}
# Frozen while it holds the lock (it can neither write nor let go), then
# cut off: from here on only the server can free the lock.
held=""
for i in $(seq 1 300); do
  if [ -n "$(holder)" ]; then
    kill -STOP $A
    sleep 0.5
    held=$(holder)
    [ -n "$held" ] && break
    kill -CONT $A
  fi
  sleep 0.1
done
[ -n "$held" ] && pass "the consumer holds the clustering lock (backend $held) while draining" ||
  fail "holder" "never seen holding the lock: $(tail -n 3 "$T/a.log")"
$IN_NS ip link set eth0 down
start=$(date +%s)
got=$(psql -X -q -t -A -d shoal -c "SET lock_timeout = '90s'" -c "SELECT 'got' FROM (SELECT pg_advisory_lock($KEY)) l" 2>&1)
took=$(( $(date +%s) - start ))
[ "$got" = got ] && [ "$took" -le 75 ] &&
  pass "the lock is free for another session ${took} s after the holder's host vanished" ||
  fail "lock" "after ${took} s: $got (holder $(holder))"
[ -z "$(psql_q "SELECT pid FROM pg_stat_activity WHERE pid = ${held:-0}")" ] &&
  pass "the server ended the vanished consumer's session" || fail "session" "backend ${held:-?} still there"
kill -9 $A 2>/dev/null
exit $FAILED
