"""Extract the OpenLineage repository's integration-test expected events into a cache outside this repo.

The events are the ones the Spark, Flink, dbt and Hive integration tests compare their output with (the
OpenLineage repository, Apache-2.0). They are *expected* events: the tests' matchers ignore the top-level
fields a run makes up (``eventTime``, ``run.runId``, ``producer``, often ``schemaURL``), so those are left
out or written as placeholders (``${json-unit.any-string}``, ``{{ any(result) }}``). This script fills them in
the way the integration itself would, and changes nothing else:

- ``run.runId``: a UUIDv5 of the test's name (the file name without ``Start``/``Complete``/``End``/``Event``),
  the job's namespace and name, so the START and COMPLETE files of one test are one run, as they were;
- ``eventTime``: 2024-01-01T00:00:00Z plus the event's rank (START, RUNNING, then COMPLETE/FAIL/ABORT);
- ``producer``: the integration's source URL at the recorded commit; ``schemaURL``: the RunEvent schema;
- ``job.name``, where a test checks only the job's namespace: the test's name.

Each source file stays one file of the cache (``<cache>/<integration>/<file>``), as the file transport's
default layout writes them; JSON arrays (dbt) stay arrays. Nothing is committed to flowscope.

    python tests/corpus/openlineage/extract.py --repo PATH/TO/OpenLineage [--cache DIR]

``--repo`` is a git clone (or bare mirror) of https://github.com/OpenLineage/OpenLineage holding ``COMMIT``.
The default cache is ``$FLOWSCOPE_OL_CORPUS`` or ``~/.cache/flowscope/ol-corpus``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

COMMIT = "8f02abfb7a252783b95df79f443edb13959bf52c"
SOURCES = {  # integration -> (folder in the repo, file name pattern)
    "spark": ("integration/spark/app/integrations/container", r".+\.json"),
    "hive": ("integration/hive/hive-openlineage-hook/integrations/container", r".+\.json"),
    "flink": ("integration/flink/flink1/src/test/resources/events", r"expected_.+\.json"),
    "dbt": ("integration/common/tests/dbt", r"(result|.+_ol_events)\.json"),
}
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/{commit}/integration/{name}"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
RUN_IDS = uuid.UUID("0f0e1d2c-3b4a-5968-8776-a5b4c3d2e1f0")
START_TIME = datetime(2024, 1, 1, tzinfo=UTC)
RANK = {"START": 0, "RUNNING": 1, "COMPLETE": 2, "FAIL": 2, "ABORT": 2, "OTHER": 1}
_STEM = re.compile(r"(Start|Complete|End|Running)?(Event|Job|Application)?$")


def default_cache() -> Path:
    return Path(os.environ.get("FLOWSCOPE_OL_CORPUS") or Path.home() / ".cache/flowscope/ol-corpus")


def _placeholder(value: Any) -> bool:
    return not isinstance(value, str) or not value or "${json-unit" in value or "{{" in value


def test_name(path: str) -> str:
    """``pysparkCTASStart.json`` and ``pysparkCTASEnd.json`` -> ``pysparkCTAS``: one test, one run."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".json")
    return _STEM.sub("", stem) or stem


def complete(event: Any, test: str, integration: str, commit: str) -> Any:
    """The event with the top-level fields a real run has; everything else as the test expects it."""
    if not isinstance(event, dict):
        return event
    out = dict(event)
    job = dict(out["job"]) if isinstance(out.get("job"), dict) else {}
    if job and _placeholder(job.get("name")):  # some tests match the job's namespace only
        job["name"] = test
        out["job"] = job
    run = dict(out["run"]) if isinstance(out.get("run"), dict) else {}
    if _placeholder(run.get("runId")):
        key = f"{test}\n{job.get('namespace')}\n{job.get('name')}"
        run["runId"] = str(uuid.uuid5(RUN_IDS, key))
    out["run"] = run
    if _placeholder(out.get("eventTime")):
        rank = RANK.get(str(out.get("eventType")), 1)
        out["eventTime"] = (START_TIME + timedelta(seconds=rank)).isoformat().replace("+00:00", "Z")
    if _placeholder(out.get("producer")):
        out["producer"] = PRODUCER.format(commit=commit, name=integration)
    if _placeholder(out.get("schemaURL")):
        out["schemaURL"] = RUN_EVENT
    return out


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def extract(repo: Path, cache: Path, commit: str = COMMIT) -> dict[str, int]:
    """Write every source file, completed, into ``cache``; returns files per integration."""
    counts: dict[str, int] = {}
    for integration, (folder, pattern) in SOURCES.items():
        names = _git(repo, "ls-tree", "-r", "--name-only", commit, folder).splitlines()
        for path in sorted(n for n in names if re.fullmatch(pattern, n.rsplit("/", 1)[-1])):
            doc = json.loads(_git(repo, "show", f"{commit}:{path}"))
            test = test_name(path) if integration != "dbt" else path
            if isinstance(doc, list):
                doc = [complete(e, test, integration, commit) for e in doc]
            else:
                doc = complete(doc, test, integration, commit)
            relative = path[len(folder) + 1 :].replace("/", "__")
            target = cache / integration / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
            counts[integration] = counts.get(integration, 0) + 1
    (cache / "SOURCE").write_text(f"https://github.com/OpenLineage/OpenLineage {commit}\n", encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="a git clone of OpenLineage/OpenLineage")
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--commit", default=COMMIT)
    args = parser.parse_args(argv)
    counts = extract(args.repo, args.cache, args.commit)
    for name, n in counts.items():
        print(f"{name}: {n} files")
    print(f"written to {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
