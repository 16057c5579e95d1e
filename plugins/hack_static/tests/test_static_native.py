"""The C lowering of Hack and C++ (``_lower.c``) gives the IR its Python twin gives, on every Hack and C++
file of the corpus, the tests and the example, and on seeded random mutations of them (cut, spliced, broken
quoting, stray bytes) that make the grammars recover from errors in every way they do."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from flowscope_hack_static import tsfront

ROOT = Path(__file__).resolve().parents[3]
SUFFIXES = {".php": "hack", ".hack": "hack", ".cpp": "cpp", ".cc": "cpp", ".h": "cpp"}
EXTRA = {  # constructs the corpus has few of: interpolation, heredoc, lambdas, shapes, raw strings, casts
    "hack": b"""<?hh
function f($x, $y) {
  $s = "a{$x['k']}b$y->z";
  $h = <<<EOT
hi $x
EOT;
  $l = ($a) ==> $a;
  $d = dict["k" => $x, 2 => $y, 'n' => vec[1, $x]];
  $q = shape("a" => 1);
  $this->a->b()->c($x);
  \\Foo\\bar::baz(...$x);
  $x .= "t";
  $x ??= $y;
  foreach ($rows as $k => $v) { if (!$v) { continue; } else { log($v); } }
  return idx($x, 'k') ?? $x[0][1];
}
""",
    "cpp": b"""#include <x>
void f(const Req& r) {
  auto d = folly::dynamic::object("a", r.x)("b", r["y"]);
  std::string s = "a" "b" R"(raw)";
  LOG(INFO) << s << r.z;
  obj->m(x)->n(y);
  auto l = [&](int a) { return a; };
  int arr[] = {1, 2};
  x = (int)y + z * 3;
  x += *p;
  for (const auto& u : r.users()) { send(u.email); }
  ns::g<T>(x, /*c*/ y);
}
""",
}
TOKENS = [
    b"(",
    b")",
    b"{",
    b"}",
    b";",
    b"$",
    b'"',
    b"'",
    b"->",
    b"::",
    b"\n",
    b"dict[",
    b"#define X(",
    b"\xff\xfe",
    b"\xc3\xa9",
    b"<<<",
    b"]",
    b",",
    b"=",
    b".",
    b"+",
    b"if (",
    b"foreach (",
]


def sources() -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {"hack": [EXTRA["hack"]], "cpp": [EXTRA["cpp"]]}
    for base in ("plugins/hack_static", "examples"):
        for path in sorted((ROOT / base).rglob("*")):
            lang = SUFFIXES.get(path.suffix)
            if lang and path.is_file():
                out[lang].append(path.read_bytes())
    return out


def mutated(rng: random.Random, srcs: dict[str, list[bytes]]) -> tuple[str, bytes]:
    lang = rng.choice(["hack", "cpp"])
    data = bytearray(rng.choice(srcs[lang]))
    for _ in range(rng.randint(1, 6)):
        op, pos = rng.random(), rng.randint(0, len(data))
        if op < 0.4:
            data[pos:pos] = rng.choice(TOKENS)
        elif op < 0.7:
            del data[pos : pos + rng.randint(1, 40)]
        elif op < 0.85:
            other = rng.choice(srcs[lang])
            at = rng.randint(0, len(other))
            data[pos:pos] = other[at : at + rng.randint(1, 200)]
        else:
            del data[pos:]
    return lang, bytes(data)


needs_native = pytest.mark.skipif(
    not tsfront.native_in_use(),
    reason="the C lowering is not built here (FLOWSCOPE_STATIC_PURE or no compiler)",
)


def test_the_c_lowering_is_built_where_the_tests_require_it() -> None:
    if os.environ.get("FLOWSCOPE_STATIC_REQUIRE_NATIVE") == "1":
        assert tsfront.native_in_use()
    if os.environ.get("FLOWSCOPE_STATIC_PURE") == "1":
        assert not tsfront.native_in_use()


@needs_native
def test_every_hack_and_cpp_file_lowers_the_same_in_c_and_in_python() -> None:
    srcs = sources()
    assert len(srcs["hack"]) >= 5 and len(srcs["cpp"]) >= 4
    for lang, files in srcs.items():
        for data in files:
            assert tsfront.lower(data, "f", lang) == tsfront.lower(data, "f", lang, native=False)


@needs_native
def test_broken_and_mutated_files_lower_the_same_in_c_and_in_python() -> None:
    rng = random.Random(20261122)
    srcs = sources()
    for _ in range(400):
        lang, data = mutated(rng, srcs)
        try:
            expected = tsfront.lower(data, "f", lang, native=False)
        except RecursionError:
            continue
        got = tsfront.lower(data, "f", lang)
        assert got == expected, data[:400]


@needs_native
def test_the_c_lowering_records_calls_in_the_order_python_does() -> None:
    src = b"<?hh\nfunction f() { $a = g(h($x), $o->m(k()))->n(); }\n"
    c, py = tsfront.lower(src, "f", "hack"), tsfront.lower(src, "f", "hack", native=False)
    assert c.functions[0].calls == py.functions[0].calls == ["h", "k", "o->m", "g", "g(h(x),o->m(k()))->n"]
