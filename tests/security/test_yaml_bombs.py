"""Attack: hostile YAML (alias bombs, self-referencing aliases, deep nesting) in every file flowscope reads.

Each bad file fails alone, fast and with one line naming it; the rest of the scan's lineage is stored. Before
the bounded loader (flowscope.yamlsafe) a 450-byte bomb in a declared-flow or ML config ran past 5 GB, a
self-referencing alias failed the whole ML collector with RecursionError, and 100,000 levels of ``[`` crashed
the process with a segmentation fault. Run as subprocesses, so a crash or a blow-up is seen as one.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = {
    "billion_laughs": "\n".join(
        ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    )
    + "\n",
    "self_reference": "flows: &f\n  - *f\n",
    "deep_nesting": "flows: " + "[" * 100_000 + "]" * 100_000 + "\n",
}

GOOD_FLOWS = """\
assets:
  users: {namespace: mysql://db:3306, name: app.users, fields: [email]}
  signups: {namespace: log://scribe, name: signups, fields: [email]}
jobs:
  signup: {namespace: service://www}
flows:
  - {job: signup, from: users, to: signups, fields: [email]}
"""

GOOD_TRAINING = """\
model:
  name: churn_model
data:
  train: s3://lake/churn/train.parquet
"""


def flowscope(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:  # a bomb that slips through fails the test instead of the machine
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    return subprocess.run(
        [sys.executable, "-c", "from flowscope.cli import main; main()", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
        env={**os.environ, "FLOWSCOPE_STORE": str(tmp / ".flowscope")},
    )


def estate(tmp: Path, config_extra: str = "") -> None:
    (tmp / "flows").mkdir()
    (tmp / "ml").mkdir()
    (tmp / "flows" / "good.yaml").write_text(GOOD_FLOWS)
    (tmp / "ml" / "train.yaml").write_text(GOOD_TRAINING)
    (tmp / "flowscope.yaml").write_text(
        "plugins:\n  declared:\n    files: [flows/*.yaml]\n"
        + ("  ml_config:\n    paths: [ml]\n" if _has_ml_config() else "")
        + "scan:\n  collectors: [declared"
        + (", ml_config" if _has_ml_config() else "")
        + "]\n"
        + config_extra
    )


def _has_ml_config() -> bool:
    try:
        import flowscope_ml_config  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_declared_flow_file_fails_alone(tmp_path: Path, attack: str) -> None:
    estate(tmp_path)
    (tmp_path / "flows" / "evil.yaml").write_text(HOSTILE[attack])
    result = flowscope(tmp_path, "scan")
    assert result.returncode == 0, result.stderr  # problems are reported; --strict makes them fatal
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if "flows/evil.yaml" in line]
    assert len(problems) == 1, result.stderr
    assert "YAML" in problems[0]
    down = flowscope(tmp_path, "lineage", "downstream", "users.email", "--json")
    assert down.returncode == 0, down.stderr
    assert [r["name"] for r in json.loads(down.stdout)["reached"]] == ["signups"]


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_ml_config_fails_alone(tmp_path: Path, attack: str) -> None:
    if not _has_ml_config():
        pytest.skip("flowscope-ml-config is not installed in this environment")
    estate(tmp_path)
    (tmp_path / "ml" / "evil.yaml").write_text(HOSTILE[attack])
    result = flowscope(tmp_path, "scan")
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    assert len([line for line in result.stderr.splitlines() if "ml/evil.yaml" in line]) == 1, result.stderr
    down = flowscope(tmp_path, "lineage", "downstream", "s3://lake/churn/train.parquet", "--json")
    assert down.returncode == 0, down.stderr
    assert any(r["name"] == "churn_model" for r in json.loads(down.stdout)["reached"])


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_config_file_is_one_error_line(tmp_path: Path, attack: str) -> None:
    estate(tmp_path)
    (tmp_path / "flowscope.yaml").write_text(HOSTILE[attack].replace("flows:", "scan:"))
    result = flowscope(tmp_path, "scan")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: flowscope.yaml:") and result.stderr.count("\n") == 1, (
        result.stderr
    )


def test_limits_are_read_from_the_config(tmp_path: Path) -> None:
    estate(tmp_path, "yaml:\n  max_depth: 3\n")
    (tmp_path / "flows" / "nested.yaml").write_text("a: {b: {c: {d: 1}}}\n")
    result = flowscope(tmp_path, "scan")
    assert "flows/nested.yaml:1: YAML nests deeper than 3 levels (yaml.max_depth)" in result.stderr
    (tmp_path / "flowscope.yaml").write_text("yaml:\n  max_depth: 0\n")
    result = flowscope(tmp_path, "scan")
    assert result.returncode == 1 and "yaml: max_depth must be at least 1" in result.stderr, result.stderr


def test_a_value_pyyaml_cannot_construct_fails_its_file_alone(tmp_path: Path) -> None:
    """``2024-02-30`` or ``!!int 0b_`` made PyYAML's constructor raise a plain ValueError: before, the whole
    declared collector failed ("collector declared failed: ValueError: day is out of range for month")
    and the good file's flows were lost with it."""
    estate(tmp_path)
    (tmp_path / "flows" / "dates.yaml").write_text(
        "jobs:\n  nightly: {namespace: cron://etl, since: 2024-02-30}\n"
    )
    if _has_ml_config():
        (tmp_path / "ml" / "bits.yaml").write_text("model:\n  name: m\n  seed: !!int 0b_\n")
    result = flowscope(tmp_path, "scan")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "failed" not in result.stderr, result.stderr
    problems = [line for line in result.stderr.splitlines() if "dates.yaml" in line]
    assert len(problems) == 1 and "flows/dates.yaml:2: invalid YAML: cannot read '2024-02-30'" in problems[0]
    if _has_ml_config():
        problems = [line for line in result.stderr.splitlines() if "bits.yaml" in line]
        assert (
            len(problems) == 1 and "ml/bits.yaml:3: invalid YAML: cannot read '0b_' as !!int" in problems[0]
        )
    down = flowscope(tmp_path, "lineage", "downstream", "users.email", "--json")
    assert [r["name"] for r in json.loads(down.stdout)["reached"]] == ["signups"]
