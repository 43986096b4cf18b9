# README's configuration reference is the settings table, verbatim.
set -u
. tests/support/lib.sh
FAILED=0
sed -n '/<!-- config-reference:begin -->/,/<!-- config-reference:end -->/p' README.md | sed '1d;$d' >/tmp/readme-ref.$$
"$BIN/shoal-consumer" --config-reference >/tmp/table-ref.$$
if diff -u /tmp/table-ref.$$ /tmp/readme-ref.$$; then pass "README configuration reference matches the table"
else fail "README reference" "regenerate with: shoal-consumer --config-reference"; fi
rm -f /tmp/readme-ref.$$ /tmp/table-ref.$$
exit $FAILED
