#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror and runs the
# whole suite on the default OpenCL device (PoCL on a machine without a GPU),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer in a
# second tree and runs the whole suite there too (scripts/sanitize.sh), on the
# first pass's program cache, so the second pass is mostly host time.
#   BUILD_DIR      first build tree (default build); the sanitizer one is $BUILD_DIR-asan
#   SANITIZE=0     skip the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLCONV_WERROR=ON
cmake --build "$BUILD" -j "$(nproc)"
(cd "$BUILD" && ctest --output-on-failure -j "$(nproc)")
if [ "${SANITIZE:-1}" != 0 ]; then
  echo "test.sh: the suite again under AddressSanitizer + UndefinedBehaviorSanitizer"
  case "$BUILD" in /*) CACHE="$BUILD/test-cache" ;; *) CACHE="$PWD/$BUILD/test-cache" ;; esac
  SKIP_SETUP=1 BUILD_DIR="$BUILD-asan" TEST_CACHE_DIR="$CACHE" \
    ./scripts/sanitize.sh
fi
