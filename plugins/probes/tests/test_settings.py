"""Settings: keys and types checked at install time, one section shared with flowscope scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowscope_probes.settings import SettingsError, load_settings_file, make_settings


def test_defaults_and_coercion() -> None:
    s = make_settings({"service": "shop", "sample_rate": 1, "rates_by_route": {"/health": 0}})
    assert s.service == "shop" and s.sample_rate == 1.0 and s.rates_by_route == {"/health": 0}
    assert s.spool == Path(".flowscope/probes")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sampel_rate": 0.1}, "sampel_rate: unknown probes setting"),
        ({"sample_rate": "often"}, "sample_rate: expected a number"),
        ({"sample_rate": 2}, "sample_rate: expected a fraction between 0 and 1"),
        ({"rates_by_route": {"/a": 1.5}}, "rates_by_route./a: expected a fraction"),
        ({"disable": "flask"}, "disable: expected a list"),
        ({"queue_size": 1.5}, "queue_size: expected an integer"),
        ({"debug_samples": "yes"}, "debug_samples: expected true or false"),
    ],
)
def test_bad_settings_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        make_settings(values)


def test_file_with_a_plugins_probes_section(tmp_path: Path) -> None:
    cfg = tmp_path / "flowscope.yaml"
    cfg.write_text("plugins:\n  probes:\n    service: nearby\n    spool: out/spool\n    sample_rate: 0.5\n")
    s = load_settings_file(cfg)
    assert (s.service, s.sample_rate) == ("nearby", 0.5)
    assert s.spool == tmp_path.resolve() / "out/spool"  # relative to the file, like flowscope scan


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("service: x\nflush: 3\n")
    with pytest.raises(SettingsError, match=r"probes.yaml: flush: unknown probes setting"):
        load_settings_file(cfg)
    cfg.write_text("service: [unclosed\n")
    with pytest.raises(SettingsError, match=r"probes.yaml:2: cannot read probes settings: invalid YAML"):
        load_settings_file(cfg)
