#!/bin/sh
# eval.sh FILE [INSTANCES] [PRED]: clustering scored on the real path. The
# labelled events of FILE ({"id", "title", "text", "published_at", "source",
# "gold_cluster"}) are produced to the mock cluster, consumed into a
# throwaway PostgreSQL by INSTANCES consumers in one group (default 1; one
# partition then, so the order is the file's; else 2 per instance), and the clusters read back
# from the events table are scored by cluster_eval --score. PRED, when
# given, keeps the assignment ({"id", "cluster"} per line). PARTITIONS
# (environment) sets the topic's partition count, e.g. to compare 1 and 3
# instances on the same stream.
set -u
FILE=$1
INSTANCES=${2:-1}
PRED=${3:-}
BIN=${BIN:-bin}
. tests/support/lib.sh
harness_init
FAILED=0
[ -r "$FILE" ] || { echo "eval: cannot read $FILE" >&2; exit 2; }
pg_start
PARTS=1
[ "$INSTANCES" -gt 1 ] && PARTS=$((INSTANCES * 2))
PARTS=${PARTITIONS:-$PARTS}
mock_start --brokers 1 --topic eval:$PARTS --topic eval.dlq:1
"$BIN/shoal-consumer" migrate --db "$DB" 2>"$T/migrate.log" || { cat "$T/migrate.log" >&2; exit 1; }

# The label stays behind: the events carry only what a crawler would send.
/usr/bin/python3 - "$FILE" >"$T/events.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    out = {"id": e["id"], "kind": "article", "source": e.get("source") or "unknown", "title": e.get("title") or ""}
    for k in ("text", "published_at", "url", "lang"):
        if e.get(k):
            out[k] = e[k]
    print(json.dumps(out, ensure_ascii=False))
PY

# Every instance joins before anything is produced, so all take part; they
# wait (drain.idle.ms) through the joining and the production.
IDLE=5000
[ "$INSTANCES" -gt 1 ] && IDLE=30000
i=1
while [ $i -le "$INSTANCES" ]; do
  consumer_bg "$T/c$i.log" -t eval -g eval --drain --set drain.idle.ms=$IDLE --set http.listen=
  eval "PID$i=\$CONSUMER_PID"
  i=$((i + 1))
done
wait_for 120 sh -c "[ \$(cat '$T'/c*.log | grep -c '\"msg\":\"partition assigned\"') -ge $PARTS ]" ||
  echo "eval: not every partition assigned yet; producing anyway" >&2
[ "$INSTANCES" -gt 1 ] && sleep 12 # the mock settles a rebalance in about 10 s
produce eval "$T/events.jsonl" 2>"$T/p.log" || { tail -n 3 "$T/p.log" >&2; exit 1; }
start=$(now_ms)
i=1
while [ $i -le "$INSTANCES" ]; do
  eval "wait \$PID$i" || echo "eval: consumer $i exited $?" >&2
  i=$((i + 1))
done
secs=$(( ($(now_ms) - start) / 1000 ))
psql_q "SELECT json_build_object('id', event_id, 'cluster', cluster_id::text) FROM event_clusters" >"$T/pred.jsonl"
[ -n "$PRED" ] && cp "$T/pred.jsonl" "$PRED"
echo "instances $INSTANCES  partitions $PARTS  stored $(wc -l <"$T/pred.jsonl")  consumed in ${secs} s"
i=1
while [ $i -le "$INSTANCES" ]; do
  n=$(grep '"msg":"progress"' "$T/c$i.log" | tail -n 1 | grep -o '"persisted":"[0-9]*"' | grep -o '[0-9]*')
  echo "instance $i persisted ${n:-0}"
  i=$((i + 1))
done
"$BIN/cluster_eval" "$FILE" --score "$T/pred.jsonl"
