#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror and runs the
# whole suite on the default OpenCL device (PoCL on a machine without a GPU);
# then the Python stage (scripts/python-test.sh: python/'s pytest suite against
# PyTorch, and the package installed in a venv as the README says); then two
# more OpenCL implementations: the Oclgrind stage (scripts/oclgrind.sh:
# curated layers with GPU work-group semantics and its race, uninitialised and
# API checks) and the rusticl stage (scripts/rusticl.sh: the suite on Mesa's
# llvmpipe device); then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer in a second tree and runs the whole suite there
# too (scripts/sanitize.sh), on the first pass's program cache, so that pass
# is mostly host time. Each stage prints its time.
#   BUILD_DIR      first build tree (default build); the sanitizer one is $BUILD_DIR-asan
#   SANITIZE=0     skip the sanitizer pass
#   PYTHON_STAGE=0 skip the Python stage
#   OCLGRIND=0     skip the Oclgrind stage
#   RUSTICL=0      skip the rusticl stage
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLCONV_WERROR=ON
cmake --build "$BUILD" -j "$(nproc)"
stage_start=$(date +%s)
(cd "$BUILD" && ctest --output-on-failure -j "$(nproc)")
echo "test.sh: the suite on the default device took $(( $(date +%s) - stage_start )) s"
if [ "${PYTHON_STAGE:-1}" != 0 ]; then
  echo "test.sh: the Python stage"
  stage_start=$(date +%s)
  BUILD_DIR="$BUILD" ./scripts/python-test.sh
  echo "test.sh: the Python stage took $(( $(date +%s) - stage_start )) s"
fi
if [ "${OCLGRIND:-1}" != 0 ]; then
  echo "test.sh: the Oclgrind stage"
  stage_start=$(date +%s)
  BUILD_DIR="$BUILD" ./scripts/oclgrind.sh
  echo "test.sh: the Oclgrind stage took $(( $(date +%s) - stage_start )) s"
fi
if [ "${RUSTICL:-1}" != 0 ]; then
  echo "test.sh: the rusticl stage"
  stage_start=$(date +%s)
  BUILD_DIR="$BUILD" ./scripts/rusticl.sh
  echo "test.sh: the rusticl stage took $(( $(date +%s) - stage_start )) s"
fi
if [ "${SANITIZE:-1}" != 0 ]; then
  echo "test.sh: the suite again under AddressSanitizer + UndefinedBehaviorSanitizer"
  case "$BUILD" in /*) CACHE="$BUILD/test-cache" ;; *) CACHE="$PWD/$BUILD/test-cache" ;; esac
  SKIP_SETUP=1 BUILD_DIR="$BUILD-asan" TEST_CACHE_DIR="$CACHE" \
    ./scripts/sanitize.sh
fi
