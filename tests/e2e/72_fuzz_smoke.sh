# CI smoke of the libFuzzer targets: builds them (clang, ASan+UBSan) and runs
# each for a few seconds on its seed corpus; any crash fails. The long runs
# are `make fuzz` (tests/fuzz/README.md).
set -u
if ! command -v clang >/dev/null 2>&1; then echo "FAIL fuzz smoke: clang is not installed"; exit 1; fi
make --no-print-directory FUZZ=1 CC=clang fuzzers >/tmp/shoal-fuzz-build.$$ 2>&1 ||
  { echo "FAIL fuzz build: $(tail -n 5 /tmp/shoal-fuzz-build.$$)"; rm -f /tmp/shoal-fuzz-build.$$; exit 1; }
rm -f /tmp/shoal-fuzz-build.$$
n=0
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  n=$((n + 1))
  out=$(FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-8} FUZZ_TARGETS=$name sh tests/fuzz/run.sh)
  case "$out" in
    *"no crash"*) echo "PASS $out" ;;
    *) echo "FAIL $name: $out" ;;
  esac
done
[ "$n" -ge 5 ] && echo "PASS $n fuzz targets ran" || echo "FAIL fuzz targets: only $n"
