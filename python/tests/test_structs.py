"""The ctypes structures against include/clconv.h: a small C program built
against the header prints every structure's size and field offsets."""
import ctypes
import os
import shutil
import subprocess

import pytest

from clconv import _lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(REPO, "include", "clconv.h")


def test_struct_layouts(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not os.path.isfile(HEADER):
        pytest.skip("needs a C compiler and include/clconv.h (a source checkout)")
    lines = ['#include <clconv.h>', '#include <stdio.h>', '#include <stddef.h>',
             'int main(void) {']
    for cname, cls in _lib.STRUCTS.items():
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (cname, cname))
        for f in cls._fields_:
            lines.append('printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, f[0], cname, f[0], cname, f[0]))
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    r = subprocess.run([cc, "-std=c11", "-I", os.path.join(REPO, "include"), str(src), "-o",
                        str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, "the header has no field the binding names?\n" + r.stderr
    got = {}
    for line in subprocess.run([str(exe)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        k, *v = line.split()
        got[k] = tuple(int(e) for e in v)
    for cname, cls in _lib.STRUCTS.items():
        assert got[cname] == (ctypes.sizeof(cls),), cname
        for f in cls._fields_:
            off = getattr(cls, f[0]).offset
            size = getattr(cls, f[0]).size
            assert got["%s.%s" % (cname, f[0])] == (off, size), "%s.%s" % (cname, f[0])
    # every field of the header's structures is declared: the sizes match and
    # the fields above tile each structure without gaps C would not leave
    for cname, cls in _lib.STRUCTS.items():
        end = 0
        for f in cls._fields_:
            fld = getattr(cls, f[0])
            assert fld.offset >= end
            end = fld.offset + fld.size


def test_version_matches_header():
    """The package's version is the C library's (CLCONV_VERSION_* in the header)."""
    if not os.path.isfile(HEADER):
        pytest.skip("needs include/clconv.h (a source checkout)")
    import re
    import clconv
    text = open(HEADER).read()
    v = ".".join(re.search(r"#define CLCONV_VERSION_%s (\d+)" % k, text).group(1)
                 for k in ("MAJOR", "MINOR", "PATCH"))
    assert clconv.__version__ == v
    pyproject = open(os.path.join(REPO, "python", "pyproject.toml")).read()
    assert 'version = "%s"' % v in pyproject
