from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from flowscope.config import ENV_VAR, Config, check_plugin_sections, load_config, parse_section
from flowscope.errors import UserError


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Retry:
    attempts: int = 3
    backoff: float = 1.5


@dataclass
class SqlSettings:
    dialect: str
    workers: int = 1
    strict: bool = False
    paths: list[str] = field(default_factory=list)
    schemas: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    limit: int | None = None
    mode: Literal["fast", "full"] = "fast"
    retry: Retry = field(default_factory=Retry)


# --- lookup -------------------------------------------------------------------------------------


def test_no_config_anywhere_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(None)
    assert config.path is None
    assert config.base_dir == Path.cwd()
    assert config.raw == {} and config.plugins == {} and config.openlineage == {}
    assert config.scan_collectors == [] and config.line_of(("plugins",)) is None


def test_lookup_order_explicit_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd_file = write(tmp_path / "flowscope.yaml", "plugins: {cwd: {}}\n")
    env_file = write(tmp_path / "env" / "flowscope.yaml", "plugins: {env: {}}\n")
    explicit = write(tmp_path / "explicit" / "conf.yaml", "plugins: {explicit: {}}\n")

    assert load_config(None).path == Path("flowscope.yaml")
    assert list(load_config(None).plugins) == ["cwd"]
    monkeypatch.setenv(ENV_VAR, str(env_file))
    assert list(load_config(None).plugins) == ["env"]
    config = load_config(explicit)
    assert list(config.plugins) == ["explicit"]
    assert config.base_dir == explicit.resolve().parent
    assert cwd_file.exists()


def test_explicit_or_env_file_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match=r"config file not found \(--config\): nope.yaml"):
        load_config(Path("nope.yaml"))
    monkeypatch.setenv(ENV_VAR, "missing.yaml")
    with pytest.raises(UserError, match=rf"\({ENV_VAR}\): missing.yaml"):
        load_config(None)


def test_empty_file_and_comment_only_file_are_fine(tmp_path: Path) -> None:
    for text in ("", "# nothing yet\n"):
        config = load_config(write(tmp_path / "flowscope.yaml", text))
        assert config.raw == {} and config.plugins == {}


def test_sections_are_exposed_and_openlineage_is_untouched(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "flowscope.yaml",
            "openlineage:\n"
            "  transport: {type: http, url: 'http://localhost:5000', custom_option: [1, 2]}\n"
            "plugins:\n"
            "  sql:\n"
            "    dialect: hive\n"
            "  declared:\n"
            "scan:\n"
            "  collectors: [sql, declared]\n"
            "  disable: [probes]\n",
        )
    )
    assert config.openlineage == {
        "transport": {"type": "http", "url": "http://localhost:5000", "custom_option": [1, 2]}
    }
    assert config.plugins == {"sql": {"dialect": "hive"}, "declared": {}}
    assert config.scan_collectors == ["sql", "declared"] and config.scan_disable == ["probes"]
    assert config.line_of(("plugins", "sql", "dialect")) == 5
    assert config.line_of(("scan", "collectors", 1)) == 8


# --- errors name file, line and key ----------------------------------------------------------------


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "plugins:\n  sql:\n    dialect: [hive\n  other: 1\n")
    with pytest.raises(UserError) as err:
        load_config(None)
    assert str(err.value).startswith("flowscope.yaml:4: invalid YAML: ")
    assert err.value.path == "flowscope.yaml" and err.value.line == 4


def test_unknown_top_level_key_has_line_and_suggestion(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "openlineage: {}\n\nplugin:\n  sql: {}\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:3: plugin: unknown top-level key \(did you mean plugins\?\)$"
    ):
        load_config(None)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "- plugins\n")
    with pytest.raises(UserError, match=r"^flowscope.yaml:1: expected a mapping at the top level, got list$"):
        load_config(None)


def test_plugin_section_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "plugins:\n  sql: [a]\n")
    with pytest.raises(UserError, match=r"^flowscope.yaml:2: plugins.sql: expected a mapping, got list$"):
        load_config(None)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "plugins:\n  sql: {}\n  sql: {}\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:3: plugins.sql: key written twice \(first on line 2\)$"
    ):
        load_config(None)


def test_bad_scan_section_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "flowscope.yaml", "scan:\n  collector: [sql]\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:2: scan.collector: unknown key \(did you mean collectors\?\)$"
    ):
        load_config(None)


def test_zones_and_purposes_sections_are_read_and_checked(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "flowscope.yaml",
            "zones:\n  files: [privacy/*.yaml]\npurposes:\n  ad_model: marketing.advertising\n"
            "  'service://feed/*': [personalize, marketing]\n",
        )
    )
    assert config.zones.files == ["privacy/*.yaml"]
    assert config.purposes == {
        "ad_model": "marketing.advertising",
        "service://feed/*": ["personalize", "marketing"],
    }
    assert load_config(write(tmp_path / "empty.yaml", "scan: {}\n")).zones.files == ["zones/*.yaml"]
    write(tmp_path / "flowscope.yaml", "zones:\n  file: [z.yaml]\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:2: zones.file: unknown key \(did you mean files\?\)$"
    ):
        load_config(None)
    write(tmp_path / "flowscope.yaml", "purposes:\n  ad_model: {use: marketing}\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:2: purposes.ad_model: expected a list or str, got a mapping$"
    ):
        load_config(None)


def test_unknown_plugin_section_suggests_installed_names(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "flowscope.yaml", "plugins:\n  sql: {}\n  declard:\n    files: []\n")
    )
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:3: plugins.declard: .*\(did you mean declared\?\)$"
    ):
        check_plugin_sections(config, ["declared", "sql"])
    check_plugin_sections(config, ["declared", "sql", "declard"])


# --- parse_section ----------------------------------------------------------------------------------


def sql_config(tmp_path: Path, body: str) -> Config:
    return load_config(write(tmp_path / "flowscope.yaml", "plugins:\n  sql:\n" + body))


def test_parse_section_converts_every_supported_type(tmp_path: Path) -> None:
    config = sql_config(
        tmp_path,
        "    dialect: hive\n"
        "    workers: 4\n"
        "    strict: true\n"
        "    paths: [a.sql, b.sql]\n"
        "    schemas: {analytics: hive, port: 9083}\n"
        "    log_dir: logs\n"
        "    mode: full\n"
        "    retry: {attempts: 5, backoff: 2}\n",
    )
    s = parse_section(config, "sql", SqlSettings)
    assert s == SqlSettings(
        dialect="hive",
        workers=4,
        strict=True,
        paths=["a.sql", "b.sql"],
        schemas={"analytics": "hive", "port": "9083"},
        log_dir=tmp_path.resolve() / "logs",
        limit=None,
        mode="full",
        retry=Retry(5, 2.0),
    )


def test_parse_section_without_class_returns_the_mapping(tmp_path: Path) -> None:
    config = sql_config(tmp_path, "    anything: [1, 2]\n")
    assert parse_section(config, "sql", None) == {"anything": [1, 2]}
    assert parse_section(config, "missing", None) == {}


def test_unknown_key_names_file_line_and_suggestion(tmp_path: Path) -> None:
    config = sql_config(tmp_path, "    dialect: hive\n    worker: 2\n")
    with pytest.raises(
        UserError, match=r"^flowscope.yaml:4: plugins.sql.worker: unknown key \(did you mean workers\?\)$"
    ):
        parse_section(config, "sql", SqlSettings)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    dialect: hive\n    workers: two\n",
            r"^flowscope.yaml:4: plugins.sql.workers: expected int, got 'two'$",
        ),
        (
            "    dialect: hive\n    strict: 'yes'\n",
            r"^flowscope.yaml:4: plugins.sql.strict: expected bool, got 'yes'$",
        ),
        ("    dialect: [hive]\n", r"^flowscope.yaml:3: plugins.sql.dialect: expected str, got a list$"),
        (
            "    dialect: h\n    paths: [a, {b: 1}]\n",
            r"^flowscope.yaml:4: plugins.sql.paths\[1\]: expected str, got a mapping$",
        ),
        (
            "    dialect: h\n    mode: slow\n",
            r"^flowscope.yaml:4: plugins.sql.mode: expected one of fast, full, got 'slow'$",
        ),
        (
            "    dialect: h\n    retry:\n      attempts: 1.5\n",
            r"^flowscope.yaml:5: plugins.sql.retry.attempts: expected int, got 1.5$",
        ),
        ("    workers: 2\n", r"^flowscope.yaml:2: plugins.sql: missing required key 'dialect'$"),
        (
            "    dialect: h\n    limit: lots\n",
            r"^flowscope.yaml:4: plugins.sql.limit: expected int, got 'lots'$",
        ),
    ],
)
def test_wrong_types_name_file_line_and_key(tmp_path: Path, body: str, expected: str) -> None:
    config = sql_config(tmp_path, body)
    with pytest.raises(UserError, match=expected):
        parse_section(config, "sql", SqlSettings)


def test_error_path_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "flowscope.yaml", "plugins:\n  sql:\n    dialect: h\n    workers: x\n")
    config = load_config(Path("conf/flowscope.yaml"))
    with pytest.raises(UserError, match=r"^conf/flowscope.yaml:4: "):
        parse_section(config, "sql", SqlSettings)
