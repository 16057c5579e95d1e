"""Core's bounded YAML loader (issues 14 and 20): as fast as it can be, and the same answers as before.

On the real ML configs of ``plugins/ml_config/bench`` (held-out groups first, then the whole corpus):

* **the same answers**: every file, and three truncations of each (cut at seeded random points, so
  syntax errors land at real places), loaded by the new loader and by the loader before the one-pass
  builder (``--old-ref``, its ``yamlsafe.py``/``yamlpos.py`` imported from git): values equal to
  ``yaml.load_all(CSafeLoader)`` (types, key order and alias sharing), the same key lines and
  duplicate keys as the old loader, the same one error line (file:line) where either fails;
* **the time**: ``yamlpos.load_yaml_all`` and ``yamlsafe.safe_load_all`` new and old, against PyYAML's
  ``yaml.load_all`` with libyaml (``CSafeLoader``) and pure Python (``yaml.safe_load_all``), best of
  ``--runs`` passes over the set, in this process;
* with ``--collector``: the ML-config collector's files/s with the new loader and with the old one, in
  the same run (``plugins/ml_config/bench/ml_bench.py --baseline-src``, the baseline importing a copy of
  this core whose two loader modules are the old ones).

    python bench/yaml_bench.py [--runs 5] [--collector] [--old-ref REV]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

import flowscope
from flowscope import yamlpos, yamlsafe
from flowscope.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
ML_BENCH = ROOT / "plugins" / "ml_config" / "bench"
sys.path.insert(0, str(ML_BENCH))
from extract_corpus import default_cache  # noqa: E402


def old_ref() -> str:
    """The commit before the one that added the one-pass builder."""
    added = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "--", "core/src/flowscope/yamlbuild.py"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return f"{added[-1]}^" if added else "HEAD"


def old_core(ref: str, dest: Path) -> Path:
    """A copy of this core whose yamlsafe.py and yamlpos.py are those of ``ref`` (no yamlbuild.py)."""
    pkg = dest / "flowscope"
    shutil.copytree(Path(flowscope.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "yamlbuild.py").unlink(missing_ok=True)
    for name in ("yamlsafe.py", "yamlpos.py"):
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{ref}:core/src/flowscope/{name}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        (pkg / name).write_text(text, encoding="utf-8")
    return dest


def import_old(core: Path) -> tuple[ModuleType, ModuleType]:
    """The old loader's two modules, imported under other names beside the new ones."""
    modules = []
    for name in ("yamlsafe", "yamlpos"):
        text = (core / "flowscope" / f"{name}.py").read_text(encoding="utf-8")
        text = text.replace("from flowscope.yamlsafe import", "from old_yamlsafe import")
        path = core / f"old_{name}.py"
        path.write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"old_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"old_{name}"] = module
        spec.loader.exec_module(module)
        modules.append(module)
    return modules[0], modules[1]


def corpus(cache: Path, heldout: bool | None) -> list[tuple[str, str]]:
    """(name, text) of every YAML file of the corpus (heldout: only held-out groups; False: only tuning)."""
    out = []
    for group in sorted(g for g in cache.iterdir() if g.is_dir()):
        if heldout is not None and ("heldout" in group.name) != heldout:
            continue
        for path in sorted(group.rglob("*")):
            if path.is_file() and (path.suffix in (".yaml", ".yml") or path.name in ("MLproject", "MLmodel")):
                out.append((str(path.relative_to(cache)), path.read_text(encoding="utf-8", errors="replace")))
    return out


def same(a: Any, b: Any, pairs: dict[int, int] | None = None) -> bool:
    """Equal values of the same types, dict keys in the same order, and the same objects shared."""
    pairs = {} if pairs is None else pairs
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict | list):
        if id(a) in pairs:
            return pairs[id(a)] == id(b)
        pairs[id(a)] = id(b)
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k], pairs) for k in a)
        return len(a) == len(b) and all(same(x, y, pairs) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def outcome(load: Callable[[str, str], Any], text: str, name: str) -> Any:
    try:
        return load(text, name)
    except UserError as exc:
        return ("error", str(exc))
    except Exception as exc:  # the old loader let some constructor errors through as Python errors
        return ("crash", f"{type(exc).__name__}: {exc}")


def differ(texts: list[tuple[str, str]], old_pos: ModuleType, old_safe: ModuleType) -> dict[str, int]:
    """Compare new and old on each text and its truncations; raises on the first difference."""
    counts = {"texts": 0, "loaded": 0, "errors": 0, "old crashed, new one line": 0}
    rng = random.Random(14)
    for name, full in texts:
        variants = [full] + [full[: rng.randrange(len(full))] for _ in range(3) if full]
        for text in variants:
            counts["texts"] += 1
            try:
                expected: Any = list(yaml.load_all(text, yaml.CSafeLoader))
            except Exception:
                expected = None
            new = outcome(yamlpos.load_yaml_all, text, name)
            old = outcome(old_pos.load_yaml_all, text, name)
            new_values = outcome(yamlsafe.safe_load_all, text, name)
            old_values = outcome(old_safe.safe_load_all, text, name)
            if isinstance(new, tuple):
                if old[0] == "crash":  # a value PyYAML's constructor rejects: now one line, was a traceback
                    counts["old crashed, new one line"] += 1
                else:
                    assert new == old, (name, text, new, old)
                    assert new_values == old_values, (name, text, new_values, old_values)
                    counts["errors"] += 1
                assert expected is None or "contains it" in new[1], (name, text, new)
                assert new[1].startswith(f"{name}:") or new[1].startswith(name), new
                continue
            assert not isinstance(old, tuple), (name, text, old)
            assert same([d.data for d in new], expected), name
            assert same(new_values, expected), name
            assert [(d.lines, d.duplicates) for d in new] == [(d.lines, d.duplicates) for d in old], name
            counts["loaded"] += 1
    return counts


def timed(loads: dict[str, Callable[[str], Any]], texts: list[str], runs: int) -> dict[str, float]:
    """Best pass of each loader; the loaders take turns, so a burst of load on the machine hits all."""
    best = dict.fromkeys(loads, math.inf)
    for _ in range(runs):
        for label, load in loads.items():
            start = time.perf_counter()
            for text in texts:
                load(text)
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def loader_table(texts: list[tuple[str, str]], old_pos: ModuleType, old_safe: ModuleType, runs: int) -> None:
    valid = []
    for _, text in texts:
        try:
            list(yaml.load_all(text, yaml.CSafeLoader))
            valid.append(text)
        except Exception:
            continue
    size = sum(len(t.encode()) for t in valid)
    rows: list[tuple[str, Callable[[str], Any]]] = [
        ("flowscope yamlpos.load_yaml_all (values + lines), new", lambda t: yamlpos.load_yaml_all(t, "f")),
        ("flowscope yamlsafe.safe_load_all (values), new", lambda t: yamlsafe.safe_load_all(t, "f")),
        ("flowscope yamlpos.load_yaml_all, old", lambda t: old_pos.load_yaml_all(t, "f")),
        ("flowscope yamlsafe.safe_load_all, old", lambda t: old_safe.safe_load_all(t, "f")),
        (
            "yaml.load_all(CSafeLoader) (libyaml, unbounded)",
            lambda t: list(yaml.load_all(t, yaml.CSafeLoader)),
        ),
        ("yaml.safe_load_all (pure Python, unbounded)", lambda t: list(yaml.safe_load_all(t))),
    ]
    seconds = timed(dict(rows), valid, runs)
    reference = seconds[rows[4][0]]
    print(f"{len(valid)} valid YAML files, {size / 1e6:.2f} MB; best of {runs} passes")
    print("| loader | seconds | files/s | MB/s | time vs libyaml safe_load |")
    print("|---|---|---|---|---|")
    for label, _ in rows:
        s = seconds[label]
        print(f"| {label} | {s:.3f} | {len(valid) / s:,.0f} | {size / 1e6 / s:.1f} | {s / reference:.2f}x |")
    new, old = seconds[rows[0][0]], seconds[rows[2][0]]
    print(f"load_yaml_all: new is {old / new:.1f}x faster than old")


def machine() -> str:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__}), load {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-ref", help="the commit whose loader is 'old' (default: before yamlbuild.py)")
    parser.add_argument("--collector", action="store_true", help="also the ML-config collector, new vs old")
    parser.add_argument("--files", type=int, default=2000, help="config files for --collector")
    args = parser.parse_args()
    if not args.cache.is_dir():
        sys.exit(f"no corpus under {args.cache} (run plugins/ml_config/bench/extract_corpus.py)")
    ref = args.old_ref or old_ref()
    with tempfile.TemporaryDirectory() as tmp:
        core = old_core(ref, Path(tmp))
        old_safe, old_pos = import_old(core)
        print(f"{time.strftime('%Y-%m-%d %H:%M')} · {machine()} · old loader: {ref}")
        for label, heldout in (("held-out", True), ("whole corpus", None)):
            texts = corpus(args.cache, heldout)
            print(f"\n## {label}: {len(texts)} YAML files")
            counts = differ(texts, old_pos, old_safe)
            print("same answers as PyYAML (values) and the old loader (lines, errors): " + ", ".join(
                f"{k} {v}" for k, v in counts.items()
            ))  # fmt: skip
            loader_table(texts, old_pos, old_safe, args.runs)
        if args.collector:
            print(
                f"\n## ML-config collector, new loader (baseline: old loader), load {machine().split('load ')[1]}"
            )
            sys.stdout.flush()
            subprocess.run(
                [sys.executable, str(ML_BENCH / "ml_bench.py"), "--files", str(args.files),
                 "--cache", str(args.cache), "--baseline-src", str(core)],
                check=True,
            )  # fmt: skip


if __name__ == "__main__":
    main()
