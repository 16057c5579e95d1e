"""Functions with loops: the second pass is run when the first can leave something for it, skipped otherwise."""

from __future__ import annotations

import random
from typing import Any

import pytest

from flowscope_hack_static import analysis, tsfront
from flowscope_hack_static.ir import Call, Lit, Other, Stmt, Sub, Var
from flowscope_hack_static.packs import Models, load_models
from flowscope_hack_static.passes import exposure

REQ = "https://www.photoshare.example//api/v1/photos/upload"


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


def run(body: str, models: Models) -> tuple[list[str], list[bool]]:
    """(every flow and summary, as text; what ``settled`` answered for each function with a loop)."""
    src = f"<?hh\nfinal class C {{\n  public function f(dict<string, mixed> $p): void {{\n{body}\n  }}\n}}\n"
    answers: list[bool] = []
    settled = analysis.settled

    def spy(*args: Any) -> bool:
        answers.append(settled(*args))
        return answers[-1]

    analysis.settled = spy
    try:
        result = analysis.analyze(tsfront.lower(src.encode(), "c.php", "hack"), models)
    finally:
        analysis.settled = settled
    out = sorted(f"{f.source} -> {f.target} {f.hops}" for f in result.flows)
    out += sorted(repr(s) for s in result.summaries.values())
    return out, answers


def forced(body: str, models: Models, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setattr(analysis, "settled", lambda *args: False)
        return run(body, models)[0]


BODIES = {
    "foreach over a request's rows": (
        "$d = $this->getRequestBody();\n$rows = idx($d, 'tags');\n"
        "foreach ($rows as $row) {\n  AsyncQueue::enqueue('tags', dict['tag' => $row]);\n}"
    ),
    "loop-carried value": (
        "$d = $this->getRequestBody();\nforeach ($items as $i) {\n"
        "  Logger::log('late', dict['v' => $x]);\n  $x = $d['location'];\n}"
    ),
    "parameter overwritten in the loop": (
        "while (true) {\n  Logger::log('p', dict['v' => $p['email']]);\n  $p = $this->getRequestBody();\n}"
    ),
    "table write in the loop relabels": (
        "$d = $this->getRequestBody();\nforeach ($xs as $x) {\n"
        "  $db->insert('photos', dict['location' => $d['location']]);\n"
        "  Logger::log('after', dict['l' => $d['location']]);\n}"
    ),
    "accumulator": (
        "$d = $this->getRequestBody();\n$s = '';\nforeach ($xs as $x) {\n  $s .= $d['location'];\n}\n"
        "Logger::log('acc', dict['s' => $s]);"
    ),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_skipping_the_second_pass_changes_nothing(
    name: str, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    got, answers = run(BODIES[name], models)
    assert answers, "the body has a loop"
    assert got == forced(BODIES[name], models, monkeypatch)


def test_the_second_pass_is_skipped_only_when_it_cannot_matter(models: Models) -> None:
    assert run(BODIES["foreach over a request's rows"], models)[1] == [True]
    late, answers = run(BODIES["loop-carried value"], models)
    assert answers == [False]  # $x is read before the loop body assigns it: the next iteration sees it
    assert any(f.startswith(f"{REQ}#location -> log://scribe/late#v") for f in late)
    assert run(BODIES["parameter overwritten in the loop"], models)[1] == [False]


def test_exposure_sorts_variables_by_their_first_touch() -> None:
    body = [
        Stmt(Call("f", (Var("a"),)), 1, "", Var("b")),  # reads a, defines b
        Stmt(Var("c"), 2, "", Var("d"), in_loop=True),  # reads c, merges into d
        Stmt(Var("b"), 3, "", Sub(Var("e"), "k"), in_loop=True),  # a key write reads the rest of e
        Stmt(Lit("x"), 4, "", Other((Var("g"),)), in_loop=True),  # destructuring merges into g
        Stmt(Var("d"), 5, "", Var("a"), in_loop=True),  # a was read first: stays a read
    ]
    exp = exposure(body)
    assert sorted(exp.reads) == ["a", "c", "e"]
    assert exp.merges == {1: ["d"], 3: ["g"]}
    assert exp.made_by_call == {"b"}


def _program(r: random.Random) -> str:
    """A random Hack body: assignments, key writes, sinks, masks, helpers, nested loops and branches."""
    names = ["$a", "$b", "$c", "$p", "$e", "$f"]
    defined: list[str] = []

    def pick() -> str:
        return r.choice(defined) if defined and r.random() < 0.85 else r.choice(names)

    def expr(depth: int = 0) -> str:
        k = r.randrange(8 if depth < 2 else 4)
        return [
            pick,
            lambda: f"{pick()}['{r.choice('xy')}']",
            lambda: "'lit'",
            lambda: "$this->getRequestBody()",
            lambda: f"sha256({expr(depth + 1)})",
            lambda: f"dict['{r.choice('xy')}' => {expr(depth + 1)}]",
            lambda: f"{expr(depth + 1)} . {expr(depth + 1)}",
            lambda: f"$this->helper({expr(depth + 1)})",
        ][k]()

    def stmt(depth: int = 0) -> str:
        k = r.randrange(8 if depth < 2 else 5)
        if depth and r.random() < 0.5:
            k = r.choice([0, 2, 3])
        v = r.choice(names)
        if k == 0:
            e = expr()
            defined.append(v)
            return f"{v} = {e};"
        if k == 4:
            return f"{v} .= {expr()};"
        if k >= 5:
            inner = "\n".join(stmt(depth + 1) for _ in range(r.randrange(1, 4)))
            head = [f"foreach ({pick()} as {v})", "if ($x)", "while (true)"][k - 5]
            return f"{head} {{\n{inner}\n}}"
        return [
            "",
            f"{pick()}['{r.choice('xy')}'] = {expr()};",
            f"Logger::log('l', dict['f' => {expr()}]);",
            f"$db->insert('photos', dict['location' => {pick()}, 'k' => {expr()}]);",
        ][k]

    return "\n".join(stmt() for _ in range(r.randrange(2, 8)))


def test_generated_programs_give_the_same_flows_with_and_without_the_skip(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    skipped = 0
    for seed in range(300):
        body = _program(random.Random(seed))
        got, answers = run(body, models)
        skipped += sum(answers)
        assert got == forced(body, models, monkeypatch), body
    assert skipped >= 5  # the generator reaches the skip, not only the second pass


def flows_of(body: str, models: Models) -> list[str]:
    src = f"<?hh\nfinal class C {{\n  public function f(dict<string, mixed> $p): void {{\n{body}\n  }}\n}}\n"
    result = analysis.analyze(tsfront.lower(src.encode(), "c.php", "hack"), models)
    return sorted(f"{f.source} -> {f.target}" for f in result.flows)


def test_a_variable_reset_before_the_loop_still_carries_into_the_next_iteration(models: Models) -> None:
    """``$x = ''`` before the loop must not hide what the loop's end gives ``$x`` for its next iteration: the
    second pass joins the loop's end state into its head instead of only replaying the pre-loop reset."""
    carried = flows_of(
        "$x = '';\nforeach ($items as $i) {\n  Logger::log('late', $x);\n  $x = $this->getParam('email');\n}",
        models,
    )
    assert carried == [f"{REQ}#email -> log://scribe/late#email"]
    # a value given after the loop never reaches the loop: the join is the loop's end state, not the pass's
    after = flows_of(
        "$x = '';\nforeach ($items as $i) {\n  Logger::log('late', $x);\n}\n$x = $this->getParam('email');",
        models,
    )
    assert after == []
