#!/usr/bin/env bash
# The Python stage: the pytest suite of python/ (against PyTorch, pyopencl) on
# the build tree's library, then the package installed as the README says
# (a venv with Debian's packages, pip install --no-build-isolation, the library
# bundled from CLCONV_LIBRARY) and imported from there, away from the
# checkout, with the LeNet-5 example run on it. Program caches live in the
# build tree (BUILD/test-cache, as the C tests'), so only a cold tree compiles.
# Last, the library installed by `cmake --install` into a venv's prefix, found
# there by a package installed without a bundled copy.
#   BUILD_DIR   the build tree with libclconv.so (default build)
#   PYTHON      the interpreter with Debian's packages (default /usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
PY=${PYTHON:-/usr/bin/python3}
export CLCONV_LIBRARY="$BUILD/libclconv.so"
export CLCONV_CACHE_DIR="${CLCONV_CACHE_DIR:-$BUILD/test-cache}"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$CLCONV_CACHE_DIR/pocl}"
[ -f "$CLCONV_LIBRARY" ] || { echo "python-test: $CLCONV_LIBRARY not built" >&2; exit 1; }

start=$(date +%s)
"$PY" -m pytest -q python/tests
echo "python-test: pytest took $(( $(date +%s) - start )) s"

# The installed package: a venv on Debian's numpy / torch / pyopencl, offline.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-build-isolation --no-index --no-deps ./python
cp python/examples/lenet_train.py "$tmp/"
(cd "$tmp" && env -u CLCONV_LIBRARY "$tmp/venv/bin/python" - <<'PY'
import os, numpy as np, clconv
assert "/venv/" in clconv.__file__, clconv.__file__
assert os.path.dirname(clconv.library_path) == os.path.dirname(clconv.__file__), clconv.library_path
x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
assert (clconv.max_pool2d(x, 2) == np.array([[[[5, 7], [13, 15]]]], np.float32)).all()
print("python-test: installed package OK:", clconv.__file__, "library", clconv.library_path)
PY
)
(cd "$tmp" && env -u CLCONV_LIBRARY "$tmp/venv/bin/python" lenet_train.py --steps 5)
# pip install --target (no venv), the library named by CLCONV_LIBRARY at run time
CLCONV_LIBRARY= "$PY" -m pip install -q --no-build-isolation --no-index --no-deps \
  --target "$tmp/target" ./python 2>&1 | grep -v "Running pip as the 'root' user" || true
(cd "$tmp" && PYTHONPATH="$tmp/target" "$PY" -c "
import clconv, os
assert clconv.library_path == os.environ['CLCONV_LIBRARY'], clconv.library_path
assert clconv.__file__.startswith('$tmp/target'), clconv.__file__
print('python-test: --target install OK')")
# The library where `cmake --install` puts it (here: the prefix of a second
# venv), the package without a bundled copy: found in the prefix's lib/.
if [ -f "$BUILD/tools/clconv" ] || [ -f "$BUILD/tools/clconv-query" ]; then
  "$PY" -m venv --system-site-packages "$tmp/venv2"
  cmake --install "$BUILD" --prefix "$tmp/venv2" > /dev/null
  CLCONV_LIBRARY= "$tmp/venv2/bin/pip" install -q --no-build-isolation --no-index --no-deps ./python
  (cd "$tmp" && env -u CLCONV_LIBRARY "$tmp/venv2/bin/python" -c "
import clconv, os
assert not os.path.exists(os.path.join(os.path.dirname(clconv.__file__), 'libclconv.so'))
assert clconv.library_path.startswith('$tmp/venv2/lib'), clconv.library_path
print('python-test: library from cmake --install OK:', clconv.library_path)")
else
  echo "python-test: no tools built in $BUILD, the cmake --install check skipped"
fi
echo "python-test: the Python stage took $(( $(date +%s) - start )) s"
