#!/usr/bin/env bash
# The main job: installs what is missing, builds, lists the OpenCL devices and
# runs a conv2d on the default device, verified against the CPU reference.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
"$BUILD"/tools/clconv-demo
