"""The sampled-out path of WSGI-style roots in C, when the optional extension ``roots/_fast.c`` is built.

:func:`wsgi_root` returns a C ``Root`` that makes the common decisions itself (probes off, an outer root
already decided, a sampled request already active, the default rate's random draw) and calls the framework's
method directly; everything else (rates by route, trusted upstream decisions) goes to the Python root, which
decides as it always did. The C root never looks at trace headers: only a deployment that trusts upstream
sampling decisions (``trust_upstream_sampled``) reads them, and then Python decides every request. Without the extension, or with ``FLOWSCOPE_PROBES_PURE=1``, the Python root is
used as is. Both give the same decisions: ``tests/test_fast_roots.py`` runs the roots' tests on both.

The runtime calls :func:`configure` when it installs and uninstalls; the C side keeps the mode and the rate.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from flowscope_probes import sampling
from flowscope_probes.context import CURRENT

DECIDED = "flowscope.probes"  # environ key: this request's sampling decision was already made

_fast: Any = None
if os.environ.get("FLOWSCOPE_PROBES_PURE") != "1":
    try:
        from flowscope_probes.roots import _fast  # type: ignore[attr-defined,no-redef]
    except ImportError:  # not built (no compiler at install time): the Python roots
        _fast = None


def build() -> str:
    """``compiled`` when roots decide sampled-out requests in C, else ``python``."""
    return "compiled" if _fast is not None else "python"


def configure(sampler: sampling.Sampler | None) -> None:
    """What C roots decide with: off (None), the default rate, or the Python sampler for rates by route and
    for trusted upstream decisions."""
    if _fast is None:
        return
    if sampler is None:
        _fast.configure(_fast.OFF, 0.0, CURRENT, sampling._random, DECIDED)
    elif sampler.by_route or sampler.trust_upstream:
        _fast.configure(_fast.SLOW, sampler.default, CURRENT, sampling._random, DECIDED)
    else:
        _fast.configure(_fast.FAST, sampler.default, CURRENT, sampling._random, DECIDED)


def wsgi_root(
    original: Callable[..., Any], slow: Callable[..., Any], sampled: Callable[..., Any]
) -> Callable[..., Any]:
    """A root for a method ``(self, environ, start_response)``: C when built, else ``slow``.

    ``slow(self, environ, start_response)`` decides in Python; ``sampled(...)`` starts a request the C
    side has already sampled in (a random draw, no trace id)."""
    if _fast is None:
        return slow
    root = _fast.Root(original, slow, sampled)
    functools.update_wrapper(root, original)  # name, doc, __wrapped__: introspection sees Flask's method
    return root  # type: ignore[no-any-return]
