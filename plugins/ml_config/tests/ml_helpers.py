from __future__ import annotations

from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import AssetInfo, Observation, Signal
from flowscope_ml_config.collector import MlConfigCollector, Settings

CORPUS = Path(__file__).parent / "corpus"


def collect(base: Path, **settings: object) -> tuple[list[Signal], list[AssetInfo], list[str]]:
    """Run the collector over ``base`` (all of it unless ``paths`` is given); problems as strings."""
    settings.setdefault("paths", ["."])
    ctx = CollectContext(collector="ml_config", settings=Settings(**settings), base_dir=base)  # type: ignore[arg-type]
    observations: list[Observation] = list(MlConfigCollector().collect(ctx))
    signals = [o for o in observations if isinstance(o, Signal)]
    infos = [o for o in observations if isinstance(o, AssetInfo)]
    return signals, infos, [str(p).removeprefix("ml_config: ") for p in ctx.problems]


def flow(signal: Signal) -> str:
    target = str(signal.target) if signal.target is not None else "(read)"
    return f"{signal.job.name}: {signal.source} -> {target}"
