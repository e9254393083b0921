#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror and runs the
# whole suite on the default OpenCL device (PoCL on a machine without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLCONV_WERROR=ON
cmake --build "$BUILD" -j "$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j "$(nproc)"
