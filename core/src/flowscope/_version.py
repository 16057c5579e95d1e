"""The version, as a constant: reading it from the installed distribution's metadata costs a scan of
sys.path (about 30 ms) on every start, which ``flowscope --version`` and every query would pay. A test
checks that it equals the version in ``core/pyproject.toml``."""

from __future__ import annotations

__version__ = "0.1.0"
