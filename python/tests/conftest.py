"""pytest setup: the package from this checkout (python/) unless
CLCONV_TEST_INSTALLED=1, and program caches inside the build tree (as the C
tests use), so that only the first run compiles kernels."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYDIR)

if os.environ.get("CLCONV_TEST_INSTALLED") != "1" and PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

_lib = os.environ.get("CLCONV_LIBRARY")
_build = os.path.dirname(os.path.abspath(_lib)) if _lib and os.path.isfile(_lib) else \
    os.path.join(REPO, "build")
if os.path.isdir(_build):
    os.environ.setdefault("CLCONV_CACHE_DIR", os.path.join(_build, "test-cache"))
    os.environ.setdefault("POCL_CACHE_DIR", os.path.join(_build, "test-cache", "pocl"))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ctx():
    import clconv
    return clconv.default_context()
