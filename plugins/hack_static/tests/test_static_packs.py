from __future__ import annotations

from pathlib import Path

import pytest

from flowscope.errors import UserError
from flowscope_hack_static import tsfront
from flowscope_hack_static.analysis import analyze
from flowscope_hack_static.packs import load_models


def test_builtin_packs_load() -> None:
    models = load_models([])
    assert {"python_common", "photoshare_www", "photoshare_cpp"} <= set(models.packs)


def test_a_wrong_key_names_file_and_line(tmp_path: Path) -> None:
    pack = tmp_path / "mine.yaml"
    pack.write_text(
        "name: mine\nsinks:\n  - call: 'A::b'\n    kind: log\n    nmae_arg: 0\n", encoding="utf-8"
    )
    with pytest.raises(
        UserError, match=r"mine\.yaml:5: sinks\[0\]\.nmae_arg: unknown key \(did you mean name_arg"
    ):
        load_models([pack])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus: 1\n", r"p\.yaml:1: bogus: unknown key"),
        (
            "sinks:\n  - call: x\n    kind: carrier_pigeon\n",
            r"p\.yaml:3: sinks\[0\]\.kind: unknown sink kind",
        ),
        ("sources:\n  - namespace: a://b\n    name: n\n", r"p\.yaml:2: sources\[0\]: needs one of call"),
        ("sources:\n  - call: x\n", r"p\.yaml:2: sources\[0\]: missing"),
        ("languages: [cobol]\n", r"p\.yaml:1: languages: languages must be among"),
        ("sinks: [\n", r"p\.yaml:\d+"),
    ],
)
def test_bad_packs_are_errors_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=expected):
        load_models([pack])


def test_user_packs_add_sinks_and_win_over_builtins(tmp_path: Path) -> None:
    pack = tmp_path / "audit.yaml"
    pack.write_text(
        "name: audit\nlanguages: [hack]\nsinks:\n"
        "  - {call: 'AuditLog::write', kind: log, system: audit, name_arg: 0, data_arg: 1}\n"
        "  - {call: 'Logger::log', kind: log, system: other, name_arg: 0, data_arg: 1}\n",
        encoding="utf-8",
    )
    src = (
        b"<?hh\nfunction f(): void {\n  $d = $r->getRequestBody();\n"
        b"  AuditLog::write('uploads', dict['u' => $d['user']]);\n  Logger::log('x', dict['u' => $d['user']]);\n}\n"
    )
    flows = analyze(tsfront.lower(src, "f.php", "hack"), load_models([pack])).flows
    assert sorted(f.target.namespace for f in flows) == ["log://audit", "log://other"]
