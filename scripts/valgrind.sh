#!/usr/bin/env bash
# Runs valgrind memcheck over the host code: test_memcheck (the CPU references
# of every operator, validation failures, the .npy reader / writer, one small
# device run per operator on PoCL) and test_validation (every bad-argument
# path, plans on the device, nothing enqueued). Fails on any memory error or
# leak outside the OpenCL runtime (tests/valgrind.supp lists what is
# suppressed: PoCL, LLVM, the ICD loader, CLBlast, ld.so's dlopen).
#   scripts/valgrind.sh [TEST...]      default: test_memcheck test_validation
#   BUILD_DIR=build (default) is configured and built when needed, or reused.
# Under valgrind PoCL sees another CPU and compiles the kernels again: the
# first run takes a few minutes, later runs reuse $BUILD/valgrind-cache.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLCONV_WERROR=ON >/dev/null
fi
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_memcheck test_validation)
cmake --build "$BUILD" -j "$(nproc)" --target "${tests[@]}"
export CLCONV_CACHE_DIR="$PWD/$BUILD/valgrind-cache"
export CK_FORK=no
status=0
for t in "${tests[@]}"; do
  echo "== valgrind memcheck: $t"
  start=$(date +%s)
  if valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
       --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
       --suppressions=tests/valgrind.supp --num-callers=40 --track-origins=no \
       "$BUILD/tests/$t" >"$BUILD/valgrind-$t.log" 2>&1; then
    echo "   clean ($(($(date +%s) - start)) s): $(grep -E 'ERROR SUMMARY' "$BUILD/valgrind-$t.log" | sed 's/==[0-9]*== //')"
  else
    status=1
    echo "   FAILED ($(($(date +%s) - start)) s), log: $BUILD/valgrind-$t.log"
    grep -E 'ERROR SUMMARY|definitely lost|possibly lost|Invalid|uninitialised|Checks' \
      "$BUILD/valgrind-$t.log" | sed 's/^/   /' | head -20
  fi
done
exit $status
