# Static analysis in CI: `make lint` (cppcheck, checks and suppressions in
# tests/lint/cppcheck.supp) reports nothing.
set -u
out=$(make --no-print-directory lint 2>&1)
[ $? = 0 ] && echo "PASS cppcheck clean" || { echo "FAIL cppcheck: findings"; echo "$out" | tail -n 30; }
