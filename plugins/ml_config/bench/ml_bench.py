"""Throughput of the ml_config collector on real configs: files per second after start-up.

The mixed set is the real-config corpus (bench/extract_corpus.py: fine-tuning recipes, KFP IR, KServe,
Seldon, TorchServe, Triton, Feast repositories, MLflow, DVC, Hydra), copied side by side until it holds
at least ``--files`` config files; each copy is its own folder, as separate repositories would be. The
collector runs in-process after a warm-up scan (imports and libyaml loaded), so the figure is the steady
rate a long scan sees. Feast repositories and compiled Kubeflow pipelines, the slowest formats, are also
timed alone. A 20 MB JSON config is timed with the size cap raised, and shown refused under the default.

    python bench/ml_bench.py [--files 2000] [--baseline-src DIR]

``--baseline-src`` runs the same measurement in a subprocess whose ``flowscope_ml_config`` is imported
from DIR (for instance the plugin's ``src`` at an older commit, from ``git archive``), for a ratio in
the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extract_corpus import default_cache

SUFFIXES = (".yaml", ".yml", ".json", ".py", ".pbtxt")


def config_files(root: Path) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and (p.suffix in SUFFIXES or p.name in ("MLmodel", "MLproject"))
    ]


def build(cache: Path, dest: Path, want: int, only: tuple[str, ...] = ()) -> int:
    groups = [g for g in sorted(cache.iterdir()) if g.is_dir() and (not only or g.name.startswith(only))]
    per_copy = sum(len(config_files(g)) for g in groups)
    if per_copy == 0:
        sys.exit(f"no corpus under {cache} (run bench/extract_corpus.py)")
    copies = -(-want // per_copy)
    for i in range(copies):
        for g in groups:
            shutil.copytree(g, dest / f"copy{i}" / g.name)
    return len(config_files(dest))


def scan(root: Path, **settings: object) -> tuple[float, int, int]:
    from flowscope.contracts import CollectContext
    from flowscope_ml_config.collector import MlConfigCollector, Settings

    known = Settings.__dataclass_fields__
    ctx = CollectContext(
        "ml_config", Settings(paths=["."], **{k: v for k, v in settings.items() if k in known}), root
    )
    start = time.perf_counter()
    out = list(MlConfigCollector().collect(ctx))
    return time.perf_counter() - start, len(out), len(ctx.problems)


def measure(cache: Path, want: int) -> dict[str, object]:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        warm = base / "warm"
        build(cache, warm, 1, ("triton", "kserve-t"))
        scan(warm)
        for label, only, n in (("mixed", (), want), ("feast", ("feast",), 300), ("kfp", ("kfp",), 300)):
            root = base / label
            files = build(cache, root, n, only)
            best = min(scan(root)[0] for _ in range(2))
            results[label] = {
                "files": files,
                "seconds": round(best, 3),
                "files_per_s": round(files / best, 1),
            }
        big = base / "big"
        big.mkdir()
        padding = [{"id": i, "text": "x" * 180} for i in range(100_000)]
        (big / "train.json").write_text(
            json.dumps({"model": {"name": "ranker"}, "dataset": "s3://lake/train", "padding": padding}),
            encoding="utf-8",
        )
        size = (big / "train.json").stat().st_size
        seconds, signals, _ = scan(big, max_file_bytes=64_000_000)
        refused_s, _, problems = scan(big)
        results["json_20mb"] = {
            "bytes": size, "parsed_seconds": round(seconds, 2), "signals": signals,
            "refused_seconds": round(refused_s, 3), "refused_problems": problems,
        }  # fmt: skip
    return results


def machine() -> str:
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = ["?"]
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {' '.join(load)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--baseline-src", type=Path)
    parser.add_argument("--json", action="store_true", help="print the raw results (used for the baseline)")
    args = parser.parse_args()
    results = measure(args.cache, args.files)
    if args.json:
        print(json.dumps(results))
        return
    baseline = None
    if args.baseline_src:
        env = {**os.environ, "PYTHONPATH": f"{args.baseline_src}{os.pathsep}{Path(__file__).parent}"}
        out = subprocess.run(
            [sys.executable, __file__, "--json", "--files", str(args.files), "--cache", str(args.cache)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        baseline = json.loads(out.stdout)
    print(f"{time.strftime('%Y-%m-%d %H:%M')} · {machine()}")
    head = "| set | files | seconds | files/s |" + (" baseline files/s | ratio |" if baseline else "")
    print(head)
    print("|---" * (6 if baseline else 4) + "|")
    for label in ("mixed", "feast", "kfp"):
        r = results[label]
        assert isinstance(r, dict)
        row = f"| {label} | {r['files']} | {r['seconds']} | {r['files_per_s']} |"
        if baseline:
            b = baseline[label]
            row += f" {b['files_per_s']} | {r['files_per_s'] / b['files_per_s']:.1f}x |"
        print(row)
    j = results["json_20mb"]
    assert isinstance(j, dict)
    print(
        f"JSON config of {j['bytes'] / 1e6:.1f} MB: parsed in {j['parsed_seconds']} s with max_file_bytes 64 MB "
        f"({j['signals']} observations); refused in {j['refused_seconds']} s under the default cap "
        f"({j['refused_problems']} problem)"
    )


if __name__ == "__main__":
    main()
