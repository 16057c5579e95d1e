"""Install an instrumentation when its library is first imported, not at ``install()``.

``install()`` must not import libraries the service never uses (importing django, sqlalchemy or a kafka
client costs the host time, memory and warnings it would not have had). An instrumentation whose library is
already imported is installed at once; otherwise a finder at the front of ``sys.meta_path`` waits for that
top-level module, lets the real loader execute it, and then runs the instrumentation's install. The module
keeps its real loader and spec; only the moment after its execution is observed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from flowscope_probes.context import FAULTS


class _AfterExec(importlib.abc.Loader):
    def __init__(self, loader: Any, done: Callable[[str], None]) -> None:
        self.loader = loader
        self.done = done

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        result: ModuleType | None = self.loader.create_module(spec)
        return result

    def exec_module(self, module: ModuleType) -> None:
        # the module runs with its real loader (importlib.resources, is_package ... read it from there)
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.done(module.__name__)


class PostImportHooks(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.pending: dict[str, list[Callable[[], None]]] = {}
        self.lock = threading.RLock()
        self.busy: set[str] = set()

    def when_imported(self, module: str, callback: Callable[[], None]) -> bool:
        """Run ``callback`` now if ``module`` is imported (True), else right after its import (False)."""
        if module in sys.modules:
            callback()
            return True
        with self.lock:
            self.pending.setdefault(module, []).append(callback)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)
        return False

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()
            if self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.pending or fullname in self.busy:
            return None
        self.busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        except Exception:
            return None
        finally:
            self.busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _AfterExec(spec.loader, self._fire)
        return spec

    def _fire(self, module: str) -> None:
        with self.lock:
            callbacks = self.pending.pop(module, [])
            if not self.pending and self in sys.meta_path:
                sys.meta_path.remove(self)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                FAULTS.add(f"install.{module}")


HOOKS = PostImportHooks()
