# Trends on the real path, in process (tests/support/trend_eval.c: decode,
# built-in extractor, clustering engine, trends_compute): the demo corpus
# yields the AI funding trend, the planted corpus exactly its quantum
# funding trend and none of its distractors (tests/data/trends-planted.README.md).
# Needs only a C compiler and libcjson; run from the repository root.
set -u
. tests/support/lib.sh
harness_init
FAILED=0

# The extractor and common code go into an archive, so the link takes only
# what trend_eval reaches (not, say, the LLM client and its libraries).
CFLAGS="-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -g -Icommon -Iconsumer -Itests"
build() {
  mkdir -p "$T/o" || return 1
  sh schema/embed.sh "$T/embedded.c" || return 1
  for f in consumer/extract/*.c common/buf.c common/event.c common/json.c common/sha256.c common/text.c common/log.c "$T/embedded.c"; do
    cc $CFLAGS -c "$f" -o "$T/o/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')" || return 1
  done
  ar rcs "$T/libsupport.a" "$T"/o/*.o &&
    cc $CFLAGS -o "$T/trend_eval" tests/support/trend_eval.c consumer/trend.c consumer/cluster.c \
      "$T/libsupport.a" -lcjson -lm
}
if build >"$T/build.log" 2>&1; then pass "trend_eval builds with cc"
else
  fail "build" "$(tail -n 5 "$T/build.log")"
  exit 1
fi

# Prints the lines of one trend's block (from its "trend KEY" line on).
block() { awk -v k="$2" '/^trend /{p = ($2 == k)} p' "$1"; }

# ---- demo.jsonl: AI funding ------------------------------------------------
D="$T/demo.out"
if "$T/trend_eval" tests/data/demo.jsonl >"$D" 2>"$T/demo.err"; then pass "demo: trend_eval exits 0"
else fail "demo run" "$(tail -n 3 "$T/demo.err")"; fi
top=$(grep '^trend ' "$D" | head -n 1)
case "$top" in
  'trend ai+funding "AI funding rising" rising '*) pass "demo: top trend is AI funding, rising" ;;
  *) fail "demo top trend" "${top:-none}" ;;
esac
B=$(block "$D" ai+funding)
total=$(echo "$B" | sed -n 's/^  total raised \([0-9.]*\)B USD from 3 subjects$/\1/p')
if [ -n "$total" ] && awk -v t="$total" 'BEGIN { exit !(t >= 11.1 && t <= 11.3) }'; then
  pass "demo: total raised ${total}B USD from 3 subjects"
else fail "demo total" "$(echo "$B" | grep '^  total' | head -n 3)"; fi
for s in OpenAI:6.6B Anthropic:4B "Mistral AI:600M"; do
  name=${s%:*} amount=${s##*:}
  if echo "$B" | grep -q "^  evidence .* subject=\"$name\" raised $amount USD .* independent "; then
    pass "demo: evidence $name raised $amount, independent"
  else fail "demo evidence $name" "no independent $name cluster raising $amount"; fi
done

# ---- trends-planted.jsonl: quantum funding only -----------------------------
P="$T/planted.out"
if "$T/trend_eval" tests/data/trends-planted.jsonl >"$P" 2>"$T/planted.err"; then
  pass "planted: trend_eval exits 0"
else fail "planted run" "$(tail -n 3 "$T/planted.err")"; fi
n=$(grep -c '^trend ' "$P")
[ "$n" = 1 ] && pass "planted: exactly one trend" || fail "planted trend count" "$n: $(grep '^trend ' "$P")"
line=$(grep '^trend ' "$P" | head -n 1)
key=$(echo "$line" | cut -d' ' -f2)
if echo "$line" "$(grep '^  terms:' "$P" | head -n 1)" | grep -q quantum; then
  pass "planted: the trend is about quantum ($key)"
else fail "planted theme" "${line:-none}"; fi
case "$line" in *'" rising '*) pass "planted: rising" ;; *) fail "planted direction" "$line" ;; esac
found=0
for s in Qubitra:300M "Entangle Labs:120M" "Photonic Arc:85M" "Coherent Axis:210M"; do
  name=${s%:*} amount=${s##*:}
  grep -q "^  evidence .* subject=\"$name\" raised $amount USD " "$P" && found=$((found + 1))
done
[ $found -ge 3 ] && pass "planted: $found of the 4 funding rounds as evidence, with their amounts" ||
  fail "planted evidence" "$found of 4: $(grep '^  evidence' "$P")"
other=$(grep '^  evidence' "$P" | grep -v -e '"Qubitra"' -e '"Entangle Labs"' -e '"Photonic Arc"' -e '"Coherent Axis"')
[ -z "$other" ] && pass "planted: no distractor story in the evidence" || fail "planted distractors" "$other"

# The airline strikes are seen as a theme and rejected by the minimum of
# three stories alone: allowing two makes them a trend.
grep -q '^trend airline+strike ' "$P" && fail "planted airline" "reported at the defaults"
"$T/trend_eval" tests/data/trends-planted.jsonl --min-clusters 2 >"$T/planted2.out" 2>/dev/null
if grep -q '^trend airline+strike .* clusters=2 independent=2 ' "$T/planted2.out"; then
  pass "planted: airline strikes fail only the three-story minimum"
else fail "planted airline theme" "not seen with --min-clusters 2: $(grep '^trend ' "$T/planted2.out")"; fi
exit $FAILED
