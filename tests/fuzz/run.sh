#!/bin/sh
# Runs every built libFuzzer target (bin/fuzz/fuzz_*) for FUZZ_SECONDS on its
# seed corpus tests/fuzz/corpus/<name>. New inputs go to build/fuzz/corpus,
# crashes to build/fuzz/crashes. Prints one line per target and exits 1 if
# any target found a crash.
#   FUZZ_SECONDS=60 FUZZ_TARGETS="fuzz_event fuzz_llm" sh tests/fuzz/run.sh
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
failed=0
for bin in bin/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  case " ${FUZZ_TARGETS:-$name} " in *" $name "*) ;; *) continue ;; esac
  work=build/fuzz/corpus/$name
  crashes=build/fuzz/crashes
  mkdir -p "$work" "$crashes"
  log=build/fuzz/$name.log
  # New units are written to the first directory only; the seeds stay clean.
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/$name-" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ $rc != 0 ]; then
    failed=1
    echo "fuzz $name: CRASH after ${execs:-?} executions (exit $rc); see $log"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -n 10
  else
    echo "fuzz $name: ${execs:-?} executions in ${secs}s, no crash"
  fi
done
exit $failed
