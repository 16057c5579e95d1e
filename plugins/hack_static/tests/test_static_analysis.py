from __future__ import annotations

from pathlib import Path

import pytest

from flowscope.model import Asset
from flowscope_hack_static import pyfront, tsfront
from flowscope_hack_static.analysis import analyze, guard_value
from flowscope_hack_static.packs import Models, load_models

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


REQ = "https://www.photoshare.example"


def hack(body: str, models: Models, consts: str = "") -> list[tuple[str, str, bool, tuple[str, ...]]]:
    src = f"<?hh\nfinal class C {{\n{consts}\n  public function f(): void {{\n{body}\n  }}\n}}\n".encode()
    result = analyze(tsfront.lower(src, "c.php", "hack"), models)
    return sorted((str(f.source), str(f.target), f.masked, f.guards) for f in result.flows)


def test_field_sensitivity_narrows_a_whole_request_to_its_key(models: Models) -> None:
    flows = hack(
        "$d = $this->getRequestBody();\n$db->insert('photos', dict['loc' => $d['location'], 'n' => 3]);",
        models,
    )
    assert flows == [
        (f"{REQ}//api/v1/photos/upload#location", "mysql://appdb:3306/photos_app.photos#loc", False, ())
    ]


def test_unrelated_keys_and_variables_do_not_flow(models: Models) -> None:
    body = "$d = $this->getRequestBody();\n$d['safe'] = 'x';\n$v = '1';\nLogger::log('c', dict['a' => $d['safe'], 'b' => $v]);"
    assert hack(body, models) == []


def test_guards_are_recorded_and_false_constants_make_dead_branches(models: Models) -> None:
    body = (
        "$d = $this->getRequestBody();\n"
        "if ($this->sharesLocation()) { Logger::log('a', dict['l' => $d['location']]); }\n"
        "if (self::DEBUG) { Logger::log('b', dict['l' => $d['location']]); }"
    )
    flows = hack(body, models, "  const bool DEBUG = false;")
    assert [(f[1], f[3]) for f in flows] == [("log://scribe/a#l", ("$this->sharesLocation()",))]
    assert guard_value("!(self::DEBUG)", {"DEBUG": False}) is True
    assert guard_value("$x > 1", {}) is None


def test_hashes_mark_the_flow_masked(models: Models) -> None:
    flows = hack(
        "$d = $this->getRequestBody();\nLogger::log('m', dict['h' => sha256($d['location'])]);", models
    )
    assert [f[2] for f in flows] == [True]


def test_table_writes_relabel_values_as_the_tables_fields(models: Models) -> None:
    body = (
        "$d = $this->getRequestBody();\n"
        "$db->insert('photos', dict['location' => $d['location']]);\n"
        "Logger::log('photo_uploads', dict['location' => $d['location']]);"
    )
    sources = {f[0] for f in hack(body, models) if f[1].startswith("log://")}
    assert sources == {"mysql://appdb:3306/photos_app.photos#location"}


def test_unresolved_names_are_kept_and_marked(models: Models) -> None:
    result = analyze(tsfront.lower((DATA / "unresolved.php").read_bytes(), "u.php", "hack"), models)
    [flow] = result.flows
    assert flow.unresolved and flow.target == Asset("log://scribe", "unresolved:category", "email")


def test_python_flask_dbapi_logging_requests_redis(models: Models) -> None:
    ir = pyfront.lower((DATA / "flask_app.py").read_text(), "flask_app.py")
    result = analyze(ir, models)
    got = {(str(f.source), str(f.target), f.masked) for f in result.flows}
    req = "service://python-app/request"
    assert (f"{req}#email", "postgres://default:5432/users#email", False) in got
    assert (f"{req}#city", "postgres://default:5432/users#city", False) in got
    assert (f"{req}#city", "log://python/root#city", False) in got  # logging.info: the root logger
    assert (f"{req}#city", "https://geo.internal//api/v1/cities/{}#city", False) in got
    assert (f"{req}#email", "cache://redis/user:{}#city", False) not in got
    assert (f"{req}#city", "cache://redis/user:{}#city", False) in got
    # log = logging.getLogger(__name__): the logger named after the module
    assert (f"{req}#email", "log://python/flask_app#email", True) in got, "the hash is logged, masked"
    assert (f"{req}#email", "log://python/flask_app#email", False) not in got, (
        "the raw email only in a dead branch"
    )
    assert result.dead == 1
    assert all(f.hops[-1].location.startswith("flask_app.py:") for f in result.flows)
