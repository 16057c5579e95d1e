"""Instrumentations: one per library, discovered through the entry-point group
``flowscope_probes.instrumentations`` (name -> an :class:`Instrumentation` subclass or instance).

CONTRACT shared by the runtime and the instrumentations: keep these names.

An instrumentation patches with :meth:`Instrumentation.patch`, which records the original so
:meth:`Instrumentation.uninstall` restores it, and marks the wrapper so a second install (or an install on
top of a wrapper that is already ours) patches nothing twice. Wrappers call the original first-class and
record around it with :func:`flowscope_probes.context.source` / ``sink``; probe code inside a wrapper runs
under try/except (or :func:`flowscope_probes.context.guarded`) so the host's call behaves exactly as
unpatched, exceptions of the original included.
"""

from __future__ import annotations

import importlib.util
from typing import Any

MARK = "__flowscope_probes__"


class Instrumentation:
    """Base class. Subclasses set ``name`` and ``module`` (the library they need) and implement ``_install``."""

    name: str = ""
    module: str = ""  # importable name of the instrumented library; empty for stdlib-only ones

    def __init__(self) -> None:
        self._patched: list[tuple[Any, str, Any]] = []
        self.settings: dict[str, Any] = {}

    def available(self) -> bool:
        return not self.module or importlib.util.find_spec(self.module) is not None

    def install(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})
        if not self._patched:
            self._install()

    def _install(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def uninstall(self) -> None:
        while self._patched:
            owner, attr, original = self._patched.pop()
            setattr(owner, attr, original)

    @property
    def installed(self) -> bool:
        return bool(self._patched)

    def patch(self, owner: Any, attr: str, make_wrapper: Any) -> bool:
        """Replace ``owner.attr`` with ``make_wrapper(original)``; False if it is already ours."""
        original = getattr(owner, attr)
        if getattr(original, MARK, False):
            return False
        wrapper = make_wrapper(original)
        try:
            setattr(wrapper, MARK, True)
            wrapper.__wrapped__ = original
        except (AttributeError, TypeError):
            pass
        setattr(owner, attr, wrapper)
        self._patched.append((owner, attr, original))
        return True
