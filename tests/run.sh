#!/bin/sh
# Runs the suites and prints one closing line "N passed, N failed".
#   tests/run.sh unit    unit tests (release and sanitizer builds)
#   tests/run.sh e2e     end-to-end scripts on real PostgreSQL + mock cluster
#   tests/run.sh all     both
# E2E=NN_name limits the e2e scripts to those matching the pattern.
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
passed=0
failed=0
failures=""
# Each run its own log directory (made by the first script), so that two
# runs on one machine cannot mix their logs, which the counts are read from;
# removed when all passed.
LOGDIR=${LOGDIR:-}
own_logs=0

run_unit() {
  for t in bin/test_* bin/san/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    p=$(echo "$line" | cut -d' ' -f1); f=$(echo "$line" | cut -d' ' -f3)
    if [ -z "$line" ]; then p=0; f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" != 0 ]; then
      failures="$failures $t"
      echo "$out" | grep -E 'FAIL|ERROR|Sanitizer|runtime error' | head -n 20
    fi
    echo "unit $t: $p passed, $f failed"
  done
}

# Scripts also run against the sanitizer build (bin/san): ASan, UBSan and
# LeakSanitizer watch the real binaries on real PostgreSQL and Kafka.
SAN_E2E=${SAN_E2E:-"03_reload 10_pipeline 13_kcat_dlq 14_migrate_race 22_hostile 46_trend_worker 50_httpd 70_crawl"}

run_e2e() {
  for s in tests/e2e/[0-9][0-9]_*.sh; do
    case "$s" in *${E2E:-}*) ;; *) continue ;; esac
    run_script "$s" bin "$(basename "$s" .sh)"
    for n in $SAN_E2E; do
      [ "$n" = "$(basename "$s" .sh)" ] && [ -x bin/san/shoal-consumer ] && run_script "$s" bin/san "$n.san"
    done
  done
}

run_script() {
    s=$1; name=$3
    if [ -z "$LOGDIR" ]; then
      LOGDIR=$(mktemp -d /tmp/shoal-test-logs.XXXXXX) || exit 2
      own_logs=1
    fi
    mkdir -p "$LOGDIR"
    log="$LOGDIR/$name.log"
    start=$(date +%s)
    KEEP_LOGS="$LOGDIR/$name" BIN=$2 ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} sh "$s" >"$log" 2>&1
    rc=$?
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
    if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; echo "FAIL $name: exited $rc" >>"$log"; fi
    passed=$((passed + p)); failed=$((failed + f))
    echo "e2e $name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
    if [ "$f" != 0 ]; then
      failures="$failures $name"
      grep '^FAIL ' "$log"
      echo "--- last lines of $log:"; tail -n 30 "$log"
    fi
}

case "$what" in
  unit) run_unit ;;
  e2e) run_e2e ;;
  all) run_unit; run_e2e ;;
  *) echo "usage: tests/run.sh unit|e2e|all" >&2; exit 2 ;;
esac
if [ -n "$failures" ]; then echo "failed:$failures (logs in $LOGDIR)"
elif [ $own_logs = 1 ]; then rm -rf "$LOGDIR"; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
