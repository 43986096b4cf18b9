#!/bin/sh
# 30_llm: the LLM extractor (consumer/extract/llm.c) against a scripted fake
# server (tests/support/fake_llm.py), driven by tests/support/llm_probe.c:
# a hanging server costs no more than the batch deadline, 429 waits for its
# Retry-After, repeated 500s open the breaker (then nothing is sent) and a
# recovered server closes it after the cooldown, malformed and
# schema-violating answers fail their slots, a keep-alive connection the
# server dropped while idle is retried once on a fresh one, and a batch's
# requests run concurrently within max-in-flight.
#
# Standalone: BIN=bin sh tests/e2e/30_llm.sh from the repository root.
# BIN ending in "san" builds the probe with ASan and UBSan.
# Prints PASS/FAIL lines; exits non-zero if anything failed.
set -u

BIN=${BIN:-bin}
PY=/usr/bin/python3

tmp=$(mktemp -d)
fake_pid=
fails=0

cleanup() {
    if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL $1${2:+: $2}"
    fails=$((fails + 1))
}

# ---- Build the probe (the Makefile does not build it) ----------------------
CFLAGS="-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -g -Icommon -Iconsumer -Itests"
case "$BIN" in
*san) CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" ;;
esac
# extraction_validate() comes from an archive of the extractor's sources, so
# the linker takes validate.c and only what it uses, not the whole extractor
# (whose taxonomy is generated at build time).
mkdir "$tmp/obj"
for f in consumer/extract/*.c common/text.c common/buf.c; do
    [ "$f" = consumer/extract/llm.c ] && continue
    # shellcheck disable=SC2086
    cc $CFLAGS -c "$f" -o "$tmp/obj/$(echo "$f" | tr / _).o" 2>>"$tmp/build.log" ||
        echo "note: $f did not compile; linking without it" >&2
done
ar rcs "$tmp/libextract.a" "$tmp"/obj/*.o
# shellcheck disable=SC2086
if ! cc $CFLAGS -o "$tmp/llm_probe" tests/support/llm_probe.c consumer/extract/llm.c \
    common/http.c common/clock.c common/log.c common/fault.c "$tmp/libextract.a" -lcurl -lcjson -lm \
    2>>"$tmp/build.log"; then
    cat "$tmp/build.log" >&2
    fail build "llm_probe did not build"
    exit 1
fi
echo "PASS build"

# ---- The fake ----------------------------------------------------------------
$PY tests/support/fake_llm.py >"$tmp/fake.out" 2>"$tmp/fake.log" &
fake_pid=$!
i=0
while [ ! -s "$tmp/fake.out" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$fake_pid" 2>/dev/null; then
        cat "$tmp/fake.log" >&2
        fail fake-start "no port from fake_llm.py"
        exit 1
    fi
    sleep 0.05
done
URL="http://127.0.0.1:$(head -n 1 "$tmp/fake.out")"

# ---- Scenarios, one probe process each ----------------------------------------
# Each prints its own PASS/FAIL lines; a probe that dies (a sanitizer report,
# a crash) or overruns is a failure too. The probe's assertions are in
# tests/support/llm_probe.c; the bounds they check:
#   hang        returns by the 1.5 s deadline (< 2.5 s) although requests time out at 20 s
#   429         the retry arrives >= 2 s after the first attempt (Retry-After: 2);
#               with a 1 s deadline it is not waited for
#   breaker     3 failed requests open it; then 4 slots fail with 0 requests;
#               after the 1.5 s cooldown one probe closes it (4 requests in all)
#   malformed, schema   NULL slots, counted by kind, no retries
#   close-idle, close-idle-large   after a 1.3 s idle gap the request succeeds
#               via exactly one resend on a fresh connection (large: llm.c's own)
#   concurrency 8 requests to slow:1 at 4 in flight: >= 1.9 s and < 5 s
#   step        llm_batch_step(50) returns (< 400 ms) while requests run
for s in parse refused ok hang 429 breaker malformed schema close-idle close-idle-large \
    concurrency step; do
    out=$(timeout 120 "$tmp/llm_probe" "$URL" "$s" 2>"$tmp/probe-$s.log")
    rc=$?
    [ -n "$out" ] && echo "$out"
    nfail=$(printf '%s\n' "$out" | grep -c '^FAIL ')
    fails=$((fails + nfail))
    if [ $rc != 0 ] && [ "$nfail" = 0 ]; then
        fail "$s" "probe exited $rc"
    fi
    if [ $rc != 0 ]; then
        echo "--- probe log ($s):"
        tail -n 40 "$tmp/probe-$s.log"
    fi
done

if [ "$fails" != 0 ]; then
    echo "--- fake log:"
    tail -n 40 "$tmp/fake.log"
fi
[ "$fails" = 0 ]
