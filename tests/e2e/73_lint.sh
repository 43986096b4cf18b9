# Static analysis in CI: `make lint` (cppcheck, checks and suppressions in
# tests/lint/cppcheck.supp) and `make tidy` (clang-tidy, checks in
# .clang-tidy, every finding an error) report nothing.
set -u
out=$(make --no-print-directory lint 2>&1)
[ $? = 0 ] && echo "PASS cppcheck clean" || { echo "FAIL cppcheck: findings"; echo "$out" | tail -n 30; }
if ! command -v clang-tidy >/dev/null 2>&1; then echo "FAIL clang-tidy: not installed"; exit 1; fi
out=$(make --no-print-directory tidy 2>&1)
rc=$?
findings=$(printf '%s\n' "$out" | grep -cE '(warning|error):')
[ $rc = 0 ] && [ "$findings" = 0 ] && echo "PASS clang-tidy clean" ||
  { echo "FAIL clang-tidy: exit $rc, $findings findings"; printf '%s\n' "$out" | grep -E '(warning|error):' | head -n 30; }
