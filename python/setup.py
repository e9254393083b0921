"""Setuptools hook: with CLCONV_LIBRARY set to a built libclconv.so when the
package is built (pip install), that library is copied into the package
(clconv/libclconv.so), where the package looks first after CLCONV_LIBRARY.
Everything else is in pyproject.toml."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("CLCONV_LIBRARY")
        dest = os.path.join(self.build_lib, "clconv", "libclconv.so")
        if os.path.exists(dest):  # a stale copy from an earlier build of this tree
            os.remove(dest)
        if lib:
            if os.path.isdir(lib):
                lib = os.path.join(lib, "libclconv.so")
            if not os.path.isfile(lib):
                raise SystemExit("CLCONV_LIBRARY=%s is not a file" % lib)
            self.announce("bundling %s as %s" % (lib, dest), level=2)
            shutil.copyfile(lib, dest)  # follows the symlinks: the real library


setup(cmdclass={"build_py": BuildPy})
