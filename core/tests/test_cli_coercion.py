"""Command-line values converted without pydantic (flowscope.cli.coercion), with click's messages."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from flowscope.cli.coercion import convert, use_light_coercion

NO_RANGE = SimpleNamespace(min=None, max=None)


def test_plain_values_convert_like_click() -> None:
    assert convert(str, NO_RANGE, "a b") == "a b"
    assert convert(str, NO_RANGE, b"caf\xc3\xa9") == "café"
    assert convert(int, NO_RANGE, " 12 ") == 12 and convert(int, NO_RANGE, 7) == 7
    assert convert(float, NO_RANGE, "0.5") == 0.5
    assert convert(bool, NO_RANGE, "yes") is True and convert(bool, NO_RANGE, "off") is False
    assert convert(int, SimpleNamespace(min=1, max=None), "1") == 1


@pytest.mark.parametrize(
    ("annotation", "info", "value", "message"),
    [
        (int, NO_RANGE, "x", "'x' is not a valid integer."),
        (float, NO_RANGE, "1,5", "'1,5' is not a valid float."),
        (bool, NO_RANGE, "maybe", "'maybe' is not a valid boolean."),
        (int, SimpleNamespace(min=1, max=None), "0", "0 is not in the range x>=1."),
        (float, SimpleNamespace(min=0.0, max=1.0), "1.5", "1.5 is not in the range 0.0<=x<=1.0."),
    ],
)
def test_bad_values_name_what_was_expected(annotation: type, info: object, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        convert(annotation, info, value)


def test_a_command_gets_typed_values_and_one_clean_usage_error(tmp_path: Path) -> None:
    use_light_coercion()
    app = typer.Typer()

    @app.command()
    def run(
        name: str,
        where: Annotated[Path, typer.Option(exists=True)] = Path("."),
        depth: Annotated[int, typer.Option(min=1)] = 10,
        conf: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    ) -> None:
        typer.echo(f"{name}|{type(where).__name__}:{where.name}|{depth + 1}|{conf * 2}")

    runner = CliRunner()
    ok = runner.invoke(app, ["n", "--where", str(tmp_path), "--depth", "2", "--conf", "0.25"])
    assert ok.exit_code == 0 and ok.output.strip() == f"n|PosixPath:{tmp_path.name}|3|0.5"
    bad = runner.invoke(app, ["n", "--depth", "0"])
    assert bad.exit_code == 2 and "0 is not in the range x>=1." in " ".join(bad.output.split())
    missing = runner.invoke(app, ["n", "--where", str(tmp_path / "nope")])
    flat = " ".join(missing.output.replace("│", " ").split())  # the rich box wraps long messages
    assert missing.exit_code == 2 and "does not exist" in flat
