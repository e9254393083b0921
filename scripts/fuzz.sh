#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) and runs
# each for SECONDS (default 600), both at once, one process each. The seed
# corpus (tests/fuzz/corpus/<target>) is copied to a working corpus in the
# build tree, so the repository is never written; a crash or a sanitizer
# report stops the target and leaves the input in $BUILD/artifacts/.
#   scripts/fuzz.sh [SECONDS]          BUILD_DIR=build-fuzz by default
# Reproduce a finding: $BUILD/tests/fuzz/fuzz_params $BUILD/artifacts/crash-...
# (then add the file to tests/fuzz/corpus/<target>/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-600}
BUILD=${BUILD_DIR:-build-fuzz}
CC=${CC:-clang}
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCLCONV_FUZZ=ON -DCLCONV_BUILD_TESTS=OFF -DCLCONV_BUILD_TOOLS=OFF \
      -DCLCONV_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target fuzz_npy fuzz_params
mkdir -p "$BUILD/artifacts"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pids=()
for t in fuzz_npy fuzz_params; do
  work="$BUILD/corpus/$t"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null || true
  "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
      "$work" >"$BUILD/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in 0 1; do
  wait "${pids[$i]}" || status=1
done
for t in fuzz_npy fuzz_params; do
  echo "== $t (log: $BUILD/$t.log)"
  grep -E '^#[0-9]+ +DONE|^stat::|ERROR|SUMMARY|Test unit written' "$BUILD/$t.log" || true
done
exit $status
