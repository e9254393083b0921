#!/usr/bin/env bash
# The main job: installs what is missing, builds, lists the OpenCL devices with
# what clconv would do on each (clconv-query), then runs the quick benchmark
# suite on the default device: every layer verified against the CPU reference
# and timed next to CLBlast (clconv-bench). A few minutes at most on a 2-core
# CPU with PoCL (most of it is PoCL compiling CLBlast's kernels the first time).
# Exit status: clconv-bench's (0 = every result verified).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
"$BUILD"/tools/clconv-query
echo
"$BUILD"/tools/clconv-bench --suite quick "$@"
