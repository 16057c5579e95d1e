"""Builds the optional C lowering of Hack and C++ expressions (flowscope_hack_static/_lower.c).

Everything else is declared in pyproject.toml. The extension is optional: where it cannot be compiled (no C
compiler, no Python headers) the package installs without it and its pure-Python twin in ``tsfront.py``
runs, which gives the same IR more slowly; ``flowscope static scan --json`` says which is in use
(``"lowering"``). Set ``FLOWSCOPE_STATIC_PURE=1`` to skip building it, or to leave it unused at run time.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing when the extension does not compile."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            _warn(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(exc)


def _warn(exc: Exception) -> None:
    print(f"flowscope-hack-static: C lowering not built ({exc}); its Python twin is used", file=sys.stderr)


ext_modules = []
if os.environ.get("FLOWSCOPE_STATIC_PURE") != "1":
    ext_modules.append(
        Extension("flowscope_hack_static._lower", ["src/flowscope_hack_static/_lower.c"], optional=True)
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
