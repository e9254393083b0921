#!/usr/bin/env bash
# The Oclgrind stage: tests/test_portable's curated layers (every algorithm
# name, forward, backward, every pooling mode) on Oclgrind's simulator with
# GPU work-group semantics, the GPU kernel family forced
# (CLCONV_DEVICE_CLASS=gpu; the CPU-family kernels run too, since every
# algorithm is asked for by name), under two GPU-like limit settings:
#   work-groups of 256 items and 48 KiB of local memory (a typical GPU),
#   work-groups of 64 items and 4 KiB of local memory (a small one),
# with Oclgrind's data-race, uninitialised-value and API checks on. Fails on
# any Oclgrind report (its log file must stay empty) and on any mismatch
# against the CPU reference (the test's own exit status).
#   BUILD_DIR   the build tree holding tests/test_portable (default build)
#   --plant     instead: plant a missing barrier in a copy of the kernels
#               (CLCONV_KERNEL_DIR) and check that the stage catches it
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
TEST="$BUILD/tests/test_portable"
[ -x "$TEST" ] || { echo "oclgrind.sh: $TEST not built" >&2; exit 1; }
RT=/usr/lib/oclgrind/liboclgrind-rt-icd.so
[ -e "$RT" ] || { echo "oclgrind.sh: $RT missing: apt-get install oclgrind" >&2; exit 1; }

WORK="$BUILD/oclgrind"
rm -rf "$WORK/logs" "$WORK/kernels-planted"
mkdir -p "$WORK/vendors" "$WORK/logs" "$WORK/cache"
# Debian's package registers no ICD: a private vendors directory names it,
# so this stage sees Oclgrind only, whatever else is installed.
echo "$RT" > "$WORK/vendors/oclgrind.icd"
export OCL_ICD_VENDORS="$WORK/vendors"
export CLCONV_DEVICE_CLASS=gpu CLCONV_DEVICE=Oclgrind CLCONV_CACHE_DIR="$WORK/cache"
export OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1
# With --uninitialized Oclgrind 21.10 stops at LLVM's freeze instruction,
# which its optimizer emits: build the kernels without optimization.
export OCLGRIND_BUILD_OPTIONS=-cl-opt-disable

plant=0
[ "${1:-}" = --plant ] && plant=1
cases=$("$TEST" list)
if [ "$plant" = 1 ]; then
  # The direct-tiled kernel's second barrier (after the chunk's products,
  # before the next chunk overwrites the tile) removed: a read-write race on
  # local memory that results on a serial CPU device never show.
  cp -r kernels "$WORK/kernels-planted"
  n=$(grep -c 'barrier(CLK_LOCAL_MEM_FENCE);' "$WORK/kernels-planted/conv2d.cl")
  awk -v n="$n" '/barrier\(CLK_LOCAL_MEM_FENCE\);/ { if (++k == n) { print "        /* planted: barrier removed */"; next } } { print }' \
    kernels/conv2d.cl > "$WORK/kernels-planted/conv2d.cl"
  export CLCONV_KERNEL_DIR="$WORK/kernels-planted"
  cases=$(echo "$cases" | grep -E '^conv2d (1|2)$')   # the direct-tiled layers
fi

# One process per case and setting: a fresh simulator per case, because
# Oclgrind 21.10 can report a buffer created after others were released as
# uninitialised even after a kernel wrote all of it (a false positive of its
# shadow memory); a case's own buffers are all created before its kernels run.
run_one() { # wg lmem name index
  local log="$WORK/logs/wg$1-lm$2-$3-$4"
  if OCLGRIND_MAX_WGSIZE=$1 OCLGRIND_LOCAL_MEM_SIZE=$2 OCLGRIND_LOG="$log.oclgrind" \
       timeout 600 "$TEST" "$3" "$4" > "$log.out" 2>&1; then
    if [ -s "$log.oclgrind" ]; then
      echo "FAIL wg=$1 lmem=$2 $3 $4: Oclgrind reports (first lines):"; head -8 "$log.oclgrind"
      return 1
    fi
    echo "ok   wg=$1 lmem=$2 $3 $4"
  else
    echo "FAIL wg=$1 lmem=$2 $3 $4: test failed"; grep -v '^\s*$' "$log.out" | tail -4
    [ -s "$log.oclgrind" ] && head -8 "$log.oclgrind"
    return 1
  fi
}
export -f run_one
export TEST WORK
start=$(date +%s)
set +e
{ for s in "256 49152" "64 4096"; do echo "$cases" | sed "s/^/$s /"; done; } |
  xargs -P "$(nproc)" -L 1 bash -c 'run_one "$@"' _ > "$WORK/summary.txt"
rc=$?
set -e
sort "$WORK/summary.txt"
fails=$(grep -c '^FAIL' "$WORK/summary.txt" || true)
total=$(grep -c '^\(ok\|FAIL\)' "$WORK/summary.txt" || true)
echo "oclgrind.sh: $((total - fails)) of $total runs clean in $(( $(date +%s) - start )) s"
if [ "$plant" = 1 ]; then
  if [ "$fails" -gt 0 ]; then
    echo "oclgrind.sh --plant: the planted missing barrier was caught"; exit 0
  fi
  echo "oclgrind.sh --plant: the planted missing barrier was NOT caught" >&2; exit 1
fi
[ "$rc" = 0 ] && [ "$fails" = 0 ]
