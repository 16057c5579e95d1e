"""Builds the matcher's optional C speedups (flowscope_probes/matching/_speedups.c).

Everything else is declared in pyproject.toml. The extension is optional: where it cannot be compiled (no C
compiler, no Python headers) the package installs without it and the matcher runs its pure-Python path, which
gives the same results more slowly; ``flowscope probes status`` says which one is in use. Set
``FLOWSCOPE_PROBES_PURE=1`` to skip building it.
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
        f"flowscope-probes: C speedups not built ({exc}); the matcher uses its pure-Python path",
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

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
