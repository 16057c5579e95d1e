from __future__ import annotations

from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static import pyfront, tsfront
from flowscope_hack_static.collector import HackStaticCollector, Settings
from flowscope_hack_static.engine import EMPTY, Index, module_places
from flowscope_hack_static.packs import load_models
from flowscope_hack_static.summaries import analyze_all

HACK = b"""<?hh
final class Uploader {
  public function genUpload(): void {
    $d = $this->getRequestBody();
    $loc = $this->normalize($d['location']);
    $this->logLocation($loc, $d['caption']);
  }
  private function normalize(string $raw): string { return trim($raw); }
  private function logLocation(string $loc, string $unused): void {
    if (self::VERBOSE) { Logger::log('verbose', dict['c' => $unused]); }
    Logger::log('locations', dict['loc' => $loc]);
  }
  const bool VERBOSE = false;
  public function loop(int $n): void { $this->loop($n); }
}
"""


def test_summaries_carry_flows_through_helpers_and_returns() -> None:
    ir = tsfront.lower(HACK, "u.php", "hack")
    [result] = analyze_all([ir], load_models([]))
    got = {(str(f.source), str(f.target), f.function, f.transformed) for f in result.flows}
    src = "https://www.photoshare.example//api/v1/photos/upload#location"
    assert got == {(src, "log://scribe/locations#loc", "Uploader.genUpload", True)}
    [flow] = result.flows
    lines = [ev.location for ev in flow.hops]
    assert lines[0] == "u.php:4" and "u.php:11" in lines, (
        "hops run from the source through the call into the sink"
    )


def test_summaries_work_across_python_modules(tmp_path: Path) -> None:
    (tmp_path / "store.py").write_text(
        "def save_email(cur, email):\n    cur.execute('INSERT INTO users (email) VALUES (%s)', (email,))\n",
        encoding="utf-8",
    )
    (tmp_path / "views.py").write_text(
        "from flask import request\nimport store\n\ndef signup(cur):\n    store.save_email(cur, request.form['email'])\n",
        encoding="utf-8",
    )
    irs = [pyfront.lower((tmp_path / n).read_text(), n) for n in ("store.py", "views.py")]
    results = analyze_all(irs, load_models([]))
    # the helper's own flow is of its parameter named as personal data (no caller needed), never of the
    # parameter's stand-in; the caller's flow names the real source
    assert [(str(f.source), str(f.target)) for f in results[0].flows] == [
        ("code://default/store.py#email", "postgres://default:5432/users#email")
    ]
    [flow] = results[1].flows
    assert (str(flow.source), str(flow.target)) == (
        "service://python-app/request#email",
        "postgres://default:5432/users#email",
    )
    ctx = CollectContext(collector="hack_static", settings=Settings(), base_dir=tmp_path)
    signals = [o for o in HackStaticCollector().collect(ctx) if isinstance(o, Signal)]
    assert sorted(s.job.name for s in signals) == ["save_email", "signup"]


def test_a_call_on_a_receiver_never_resolves_to_a_module_function_of_its_name(tmp_path: Path) -> None:
    """``headers.get(...)`` is a method of whatever ``headers`` is, not the project's ``lib/curl.py:get``;
    ``curl.get(...)`` through the imported module is that function."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "curl.py").write_text(
        "def get(cur, email):\n    cur.execute('INSERT INTO audit (email) VALUES (%s)', (email,))\n",
        encoding="utf-8",
    )
    (tmp_path / "views.py").write_text(
        "from flask import request\nfrom lib import curl\n\n"
        "def by_module(cur):\n    curl.get(cur, request.form['email'])\n\n"
        "def by_receiver(cur, headers):\n    headers.get(cur, request.form['email'])\n",
        encoding="utf-8",
    )
    names = ("lib/curl.py", "views.py")
    irs = [pyfront.lower((tmp_path / n).read_text(), n) for n in names]
    results = analyze_all(irs, load_models([]))
    assert [(f.function, str(f.target)) for f in results[1].flows] == [
        ("by_module", "postgres://default:5432/audit#email")
    ]
    index = Index({"get": EMPTY, "Cache.put": EMPTY}, module_places([("get", "lib/curl.py")]))
    assert index.resolve(None, "lib.curl.get") == "get"  # from lib.curl import get; get(u)
    assert index.resolve(None, "ns::get") == "get"  # C++/Hack: a namespace's function
    assert index.resolve(None, "headers.get") is None
    assert index.resolve(None, "client->get") is None
    assert index.resolve(None, "self.cache.put") == "Cache.put"  # methods stay resolved by name
