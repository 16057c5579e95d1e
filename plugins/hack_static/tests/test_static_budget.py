"""Analysis time is linear in statements: repeated ``.=`` / ``+=`` in a loop once doubled the work per
statement (16 statements: 66 s). Work is counted (statements plus labels moved), not timed, so the
bound holds on a loaded machine."""

from __future__ import annotations

import pytest

from flowscope_hack_static import analysis, pyfront, tsfront
from flowscope_hack_static.packs import Models, load_models


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


# seven personal fields (the built-in models' request data is personal by its names)
FIELDS = ("email", "phone", "city", "street", "zip", "full_name", "bio")


def hack_source(n: int) -> str:
    lines = "\n".join(f"      $s .= $row['{FIELDS[i % 7]}'] . $s;" for i in range(n))
    return (
        "<?hh\nfinal class C {\n  public function f(): void {\n    $body = $this->getRequestBody();\n"
        f"    $s = '';\n    foreach ($body as $row) {{\n{lines}\n    }}\n"
        "    Logger::log('cat', dict['s' => $s]);\n  }\n}\n"
    )


def python_source(n: int) -> str:
    lines = "\n".join(f"        total += request.form['{FIELDS[i % 7]}'] + total" for i in range(n))
    return (
        "import logging\nfrom flask import request\n\ndef f(items):\n    total = ''\n"
        f"    for item in items:\n{lines}\n    logging.info('t %s', total)\n"
    )


@pytest.mark.parametrize("n", [10, 1000])
def test_repeated_appends_in_a_loop_cost_linear_work(models: Models, n: int) -> None:
    ir = tsfront.lower(hack_source(n).encode(), "c.php", "hack")
    result = analysis.analyze(ir, models)
    assert result.work <= 40 * n  # two passes, a few labels per statement: linear, not 2^n
    assert any(f.target.name == "cat" for f in result.flows)
    py = analysis.analyze(pyfront.lower(python_source(n), "a.py"), models)
    assert py.work <= 40 * n
    assert {f.source.field for f in py.flows} >= set(FIELDS[: min(n, 7)])


def test_a_function_over_its_budget_is_analyzed_coarsely_and_keeps_its_flows(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    ir = tsfront.lower(hack_source(50).encode(), "c.php", "hack")
    full = analysis.analyze(ir, models)
    monkeypatch.setattr(analysis, "BUDGET", 30)
    coarse = analysis.analyze(ir, models)
    assert coarse.work < full.work
    # "all taints": every source the function reads still reaches its sink
    assert {f.source for f in full.flows} <= {f.source for f in coarse.flows}
