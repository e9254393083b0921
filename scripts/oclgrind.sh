#!/usr/bin/env bash
# The Oclgrind stage: tests/test_portable's curated layers (every algorithm
# name, forward, backward, every pooling mode) on Oclgrind's simulator with
# GPU work-group semantics, the GPU kernel family forced
# (CLCONV_DEVICE_CLASS=gpu; the CPU-family algorithms run too, since every
# algorithm is asked for by name), under two GPU-like limit settings:
#   work-groups of 256 items and 48 KiB of local memory (a typical GPU),
#   work-groups of 64 items and 4 KiB of local memory (a small one),
# and once more with the CPU family (CLCONV_DEVICE_CLASS=cpu: vectorized
# pooling, AUTO's CPU picks) under the first setting; with Oclgrind's data-race, uninitialised-value and API checks on. Fails on
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
export CLCONV_DEVICE=Oclgrind CLCONV_CACHE_DIR="$WORK/cache"
export OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1
# With --uninitialized Oclgrind 21.10 stops at LLVM's freeze instruction,
# which its optimizer emits: build the kernels without optimization.
export OCLGRIND_BUILD_OPTIONS=-cl-opt-disable

plant=0
[ "${1:-}" = --plant ] && plant=1
cases=$("$TEST" list)
if [ "$plant" = 1 ]; then
  # The direct-tiled kernel's first barrier (between loading the input and
  # weight tiles into local memory and reading them) removed: a read-write
  # race on local memory that PoCL, running a work-group's items in lockstep
  # loops, never shows.
  cp -r kernels "$WORK/kernels-planted"
  awk '/barrier\(CLK_LOCAL_MEM_FENCE\);/ && !done { print "        /* planted: barrier removed */"; done = 1; next } { print }' \
    kernels/conv2d.cl > "$WORK/kernels-planted/conv2d.cl"
  export CLCONV_KERNEL_DIR="$WORK/kernels-planted"
  cases=$(echo "$cases" | grep -E '^conv2d (1|2)$')   # the direct-tiled layers
fi

# One process per case and setting: a fresh simulator per case, because
# Oclgrind 21.10 can report a buffer created after others were released as
# uninitialised even after a kernel wrote all of it (a false positive of its
# shadow memory); a case's own buffers are all created before its kernels run.
run_one() { # wg lmem family name index
  local log="$WORK/logs/wg$1-lm$2-$3-$4-$5" what="wg=$1 lmem=$2 family=$3 $4 $5" uninit=1
  # One exact exception: Oclgrind 21.10's uninitialised-value plugin crashes
  # (SIGSEGV in the simulator) on pool2d_window_vec with column stride 2,
  # whose loads are (floatV)(vloadV(..).even, vloadV(..).even): test_portable's
  # pool2d cases 0 and 3 in the CPU family. Those two runs keep the race and
  # API checks and the reference comparison; the same layers run with the
  # uninitialised check in the GPU family's settings.
  if [ "$3" = cpu ] && [ "$4" = pool2d ] && { [ "$5" = 0 ] || [ "$5" = 3 ]; }; then
    uninit=0; what="$what (no uninitialised check: Oclgrind crash)"
  fi
  if OCLGRIND_MAX_WGSIZE=$1 OCLGRIND_LOCAL_MEM_SIZE=$2 CLCONV_DEVICE_CLASS=$3 \
       OCLGRIND_UNINITIALIZED=$uninit OCLGRIND_LOG="$log.oclgrind" \
       timeout 600 "$TEST" "$4" "$5" > "$log.out" 2>&1; then
    if [ -s "$log.oclgrind" ]; then
      echo "FAIL $what: Oclgrind reports, see $log.oclgrind"
      return 1
    fi
    echo "ok   $what"
  else
    echo "FAIL $what: the test failed, see $log.out${3:+ and $log.oclgrind}"
    return 1
  fi
}
export -f run_one
export TEST WORK
start=$(date +%s)
set +e
# The GPU family under both limits; the CPU family's kernels (vectorized
# pooling, AUTO's CPU picks) once more under the first.
settings=("256 49152 gpu" "64 4096 gpu" "256 49152 cpu")
[ "$plant" = 1 ] && settings=("256 49152 gpu" "64 4096 gpu")
{ for s in "${settings[@]}"; do while read -r c; do echo "$s $c"; done <<< "$cases"; done; } |
  xargs -P "$(nproc)" -L 1 bash -c 'run_one "$@"' _ > "$WORK/summary.txt"
rc=$?
set -e
sort "$WORK/summary.txt"
# the first report of each failing run, for the CI log
find "$WORK/logs" -name '*.oclgrind' -size +0 | sort | head -4 | while read -r f; do
  echo "--- $f"; head -8 "$f"
done
fails=$(grep -c '^FAIL' "$WORK/summary.txt" || true)
total=$(grep -c '^\(ok\|FAIL\)' "$WORK/summary.txt" || true)
echo "oclgrind.sh: $((total - fails)) of $total runs clean in $(( $(date +%s) - start )) s"
if [ "$plant" = 1 ]; then
  reported=$(find "$WORK/logs" -name '*.oclgrind' -size +0 | wc -l)
  echo "oclgrind.sh --plant: $fails of $total runs failed, $reported with an Oclgrind report"
  find "$WORK/logs" -name '*.oclgrind' -size +0 -exec grep -h -m1 -v '^\s*$' {} + | sort | uniq -c
  if [ "$total" -gt 0 ] && [ "$fails" = "$total" ]; then
    echo "oclgrind.sh --plant: the planted missing barrier was caught in every run"; exit 0
  fi
  echo "oclgrind.sh --plant: the planted missing barrier was NOT caught everywhere" >&2; exit 1
fi
[ "$rc" = 0 ] && [ "$fails" = 0 ]
