"""Builds the optional C speedups: the matcher's hot loops (flowscope_probes/matching/_speedups.c) and the
sampled-out path of the Flask root (flowscope_probes/roots/_fast.c).

Everything else is declared in pyproject.toml. The extensions are optional: where they cannot be compiled (no
C compiler, no Python headers) the package installs without them and their pure-Python twins run, which give
the same results more slowly; ``flowscope probes status`` says which are in use. Set
``FLOWSCOPE_PROBES_PURE=1`` to skip building them.
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
    print(
        f"flowscope-probes: C speedups not built ({exc}); their pure-Python twins are used",
        file=sys.stderr,
    )


ext_modules = []
if os.environ.get("FLOWSCOPE_PROBES_PURE") != "1":
    ext_modules.append(
        Extension(
            "flowscope_probes.matching._speedups",
            ["src/flowscope_probes/matching/_speedups.c"],
            optional=True,
        )
    )
    ext_modules.append(
        Extension("flowscope_probes.roots._fast", ["src/flowscope_probes/roots/_fast.c"], optional=True)
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
