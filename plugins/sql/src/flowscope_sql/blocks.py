"""A script -> the statements worth parsing, found without tokenizing what is too large to parse.

Three steps, each cheap and bounded:

1. :func:`split` cuts the text on semicolons outside quotes, comments and dollar-quoted bodies with one
   regular expression (C speed, no sqlglot tokens), so a statement over the size limit is refused before
   sqlglot ever tokenizes it, and each statement is tokenized once, by the parser.
2. :func:`peel` opens procedure blocks: ``CREATE PROCEDURE ... AS BEGIN``, ``BEGIN``/``END``, ``IF ... THEN``,
   ``ELSE``, ``WHILE``/``LOOP``, ``BEGIN TRY``/``CATCH``, ``EXCEPTION WHEN ... THEN`` are stripped from the front
   of a piece so the statement behind them is analysed; a dollar-quoted procedure body is analysed as a script
   of its own. ``DECLARE``, ``RETURN``, ``PRINT`` and the like hold no lineage and are dropped.
3. T-SQL scripts often leave semicolons out: there a piece is also cut before a statement keyword that starts
   a line (``INSERT``, ``UPDATE``, ``DELETE``, ``MERGE``, ``CREATE``, ...) at bracket depth 0.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

# strings ('' and \' escapes), quoted identifiers, comments, dollar-quoted bodies, or a semicolon
_COMMON = (
    r"""'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?|`[^`]*`?|--[^\n]*|/\*.*?(?:\*/|\Z)"""
    r"""|\$\$.*?(?:\$\$|\Z)|\$(?P<tag>[A-Za-z_]\w*)\$.*?(?:\$(?P=tag)\$|\Z)|;"""
)
_LEXEME = re.compile(_COMMON, re.S)
_LEXEME_HASH = re.compile(_COMMON + r"|\#[^\n]*", re.S)  # MySQL's # comments
_HASH_COMMENTS = frozenset({"mysql", "clickhouse", "doris", "starrocks"})
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*", re.S)
_WORD = re.compile(r"[A-Za-z_]+")

# First words of pieces that are, or may be, procedure-block syntax (tokenized only then)
BLOCK_WORDS = frozenset(
    [
        "CREATE",
        "BEGIN",
        "END",
        "IF",
        "ELSE",
        "ELSEIF",
        "ELSIF",
        "WHILE",
        "LOOP",
        "FOR",
        "REPEAT",
        "UNTIL",
        "EXCEPTION",
        "WHEN",
        "DECLARE",
        "RETURN",
        "LEAVE",
        "ITERATE",
        "CONTINUE",
        "BREAK",
        "NULL",
        "PRINT",
        "RAISERROR",
        "THROW",
        "GO",
        "OPEN",
        "FETCH",
        "CLOSE",
        "DEALLOCATE",
        "RAISE",
        "EXIT",
        "SIGNAL",
        "RESIGNAL",
    ]
)
_ROUTINE = re.compile(
    r"(?:\s+|--[^\n]*\n|/\*.*?\*/)*CREATE\s+(?:OR\s+\w+\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:PROCEDURE|PROC|FUNCTION)\b",
    re.I | re.S,
)
_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w.]*\s*:=")
_DROPPED = frozenset(
    [
        "DECLARE",
        "RETURN",
        "LEAVE",
        "ITERATE",
        "CONTINUE",
        "BREAK",
        "NULL",
        "PRINT",
        "RAISERROR",
        "THROW",
        "GO",
        "OPEN",
        "FETCH",
        "CLOSE",
        "DEALLOCATE",
        "RAISE",
        "EXIT",
        "SIGNAL",
        "RESIGNAL",
    ]
)
_STATEMENT_START = frozenset(
    [
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TRUNCATE",
        "CREATE",
        "DROP",
        "ALTER",
        "DECLARE",
        "EXEC",
        "EXECUTE",
        "PRINT",
        "RAISERROR",
        "RETURN",
        "IF",
        "WHILE",
        "BEGIN",
        "END",
        "SELECT",
        "WITH",
        "SET",
        "THROW",
    ]
)
_TSQL_CUT: frozenset[str] = frozenset(
    [
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TRUNCATE",
        "CREATE",
        "DROP",
        "ALTER",
        "DECLARE",
        "EXEC",
        "EXECUTE",
        "PRINT",
    ]
)
_CUT_WORDS = _TSQL_CUT | {"BEGIN", "END", "IF"}
MAX_DEPTH = 8  # procedure bodies inside procedure bodies


def split(text: str, dialect: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each non-empty statement, cut on semicolons outside literals and comments."""
    lexeme = _LEXEME_HASH if dialect in _HASH_COMMENTS else _LEXEME
    start, line, counted = 0, 1, 0
    for m in lexeme.finditer(text):
        if m.end() == len(text) and _unterminated(m.group()):
            # a quote never closed: cut the rest where lines end in a semicolon, as a person would read it
            skip = _LEADING.match(text, start).end()  # type: ignore[union-attr]
            line += text.count("\n", counted, skip)
            for at, body in _by_lines(text[skip:]):
                yield line + at - 1, body
            return
        if m.group() != ";":
            continue
        skip = _LEADING.match(text, start, m.start()).end()  # type: ignore[union-attr]
        line += text.count("\n", counted, skip)
        counted = skip
        body = text[skip : m.start()].rstrip()
        if body:
            yield line, body
        start = m.end()
    skip = _LEADING.match(text, start).end()  # type: ignore[union-attr]
    body = text[skip:].rstrip()
    if body:
        yield line + text.count("\n", counted, skip), body


def _unterminated(lexeme: str) -> bool:
    quote = lexeme[:1]
    if quote in ("'", '"', "`"):
        return len(lexeme) < 2 or not lexeme.endswith(quote) or lexeme.endswith("\\" + quote)
    return lexeme.startswith("/*") and not lexeme.endswith("*/")


def _by_lines(text: str) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    first = 1
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf and not raw.strip():
            continue
        if not buf:
            first = number
        buf.append(raw)
        if raw.rstrip().endswith(";"):
            yield first, "\n".join(buf).rstrip().rstrip(";").strip()
            buf = []
    if buf and "".join(buf).strip():
        yield first, "\n".join(buf).strip()


def first_word(sql: str) -> str:
    m = _WORD.match(sql, _LEADING.match(sql).end())  # type: ignore[union-attr]
    return m.group().upper() if m else ""


@dataclass(frozen=True)
class Token:
    """A word, a bracket, a string or anything else; enough to see block syntax (sqlglot's tokenizer turns
    the rest of a statement after command words such as END into one string, so it is not used here)."""

    kind: str  # word, open, close, string, dollar (a dollar-quoted body), other
    text: str  # words upper-cased; a dollar body without its quotes
    start: int
    end: int  # exclusive


_TOKEN = re.compile(
    r"""(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))"""
    r"""|(?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$(?P<body>.*?)(?:\$(?P=tag)\$|\Z))"""
    r"""|(?P<string>'(?:[^'\\]|\\.|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]\n]*\]?)"""
    r"""|(?P<word>[A-Za-z_@#][\w@#$]*)|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<other>[^\s])""",
    re.S,
)


def tokens_of(sql: str, dialect: str = "") -> list[Token]:
    out = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup or "other"
        if kind == "comment":
            continue
        if kind == "tag" or m.group("dollar") is not None:
            out.append(Token("dollar", m.group("body") or "", m.start(), m.end()))
            continue
        text = m.group().upper() if kind == "word" else m.group()
        out.append(Token(kind, text, m.start(), m.end()))
    return out


def peel(line: int, sql: str, dialect: str, depth: int = 0) -> Iterator[tuple[int, str]]:
    """The statements inside one piece: block syntax in front of it stripped; nothing for a piece that is
    only block syntax or a declaration; a dollar-quoted procedure body split and peeled in turn."""
    word = first_word(sql)
    if _ASSIGNMENT.match(sql) or sql.strip() == "/":
        return  # PL/SQL's var := expr, SQL*Plus's /
    if word == "CREATE" and not _ROUTINE.match(sql):
        yield line, sql  # CREATE TABLE/VIEW: not a block (most CREATEs; tokenizing them here cost time)
        return
    if word not in BLOCK_WORDS and not (dialect == "tsql" and "\n" in sql):
        yield line, sql
        return
    tokens = tokens_of(sql, dialect)
    i = _skip_block_syntax(tokens)
    if i is None:
        return  # only block syntax, a declaration, a RETURN ...

    def line_of(tok: Token) -> int:
        return line + sql.count("\n", 0, tok.start)  # a token's own .line is where it ends

    if i < len(tokens) and tokens[i].kind == "dollar" and depth < MAX_DEPTH:
        body = tokens[i].text
        at = line_of(tokens[i]) + sql.count("\n", tokens[i].start, sql.find(body, tokens[i].start))
        for sub_line, sub in split(body, dialect):
            yield from peel(at + sub_line - 1, sub, dialect, depth + 1)
        return
    if i >= len(tokens):
        return
    rest = tokens[i:]
    cuts = _tsql_cuts(sql, rest) if dialect == "tsql" else []
    bounds = [0, *cuts, len(rest)]
    for a, b in itertools.pairwise(bounds):
        part = sql[rest[a].start : rest[b - 1].end].strip()
        if a == 0 and not cuts:
            yield line_of(rest[a]), part
        elif depth < MAX_DEPTH:
            yield from peel(line_of(rest[a]), part, dialect, depth + 1)


def _upper(tok: Token) -> str:
    return tok.text if tok.kind == "word" else ""


def _skip_block_syntax(tokens: list[Token]) -> int | None:
    """Index of the first token of the real statement, or None when the piece holds none."""
    i = 0
    while i < len(tokens):
        word = _upper(tokens[i])
        nxt = _upper(tokens[i + 1]) if i + 1 < len(tokens) else ""
        if word == "CREATE" and _is_routine(tokens, i):
            body = _routine_body(tokens, i)
            if body is None:
                return None  # a function without a SQL body (CREATE FUNCTION f AS 'Class' USING JAR)
            i = body
        elif word == "BEGIN" and nxt in ("TRAN", "TRANSACTION", "WORK", "DISTRIBUTED"):
            return None
        elif word == "BEGIN":
            i += 2 if nxt in ("TRY", "CATCH", "ATOMIC") else 1
        elif word == "END":
            i += 2 if nxt in ("IF", "LOOP", "WHILE", "TRY", "CATCH", "FOR", "REPEAT", "CASE") else 1
        elif word in ("IF", "ELSEIF", "ELSIF", "WHILE", "FOR", "WHEN", "UNTIL"):
            i = _after_condition(tokens, i + 1)
        elif word == "EXCEPTION" or word in ("ELSE", "LOOP", "REPEAT", "DO"):
            i += 1
        elif word in _DROPPED:
            return None
        elif (
            i + 1 < len(tokens)
            and tokens[i + 1].text == ":"
            and i + 2 < len(tokens)
            and tokens[i + 2].text == "="
        ):
            return None  # PL/SQL assignment: var := expr
        elif tokens[i].text == "/" and i == len(tokens) - 1:
            return None  # SQL*Plus's run-the-block line
        else:
            return i
    return None


def _is_routine(tokens: list[Token], i: int) -> bool:
    words = [_upper(t) for t in tokens[i + 1 : i + 5]]
    while words and words[0] in ("OR", "REPLACE", "ALTER", "DEFINER", "TEMP", "TEMPORARY"):
        words.pop(0)
    return bool(words) and words[0] in ("PROCEDURE", "PROC", "FUNCTION")


def _routine_body(tokens: list[Token], i: int) -> int | None:
    """After the header of CREATE PROCEDURE/FUNCTION: the token after BEGIN, after AS/IS when there is no
    BEGIN, or the dollar-quoted body itself."""
    depth = 0
    after_as: int | None = None
    for j in range(i + 1, len(tokens)):
        t = tokens[j]
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif depth == 0:
            word = _upper(t)
            if t.kind == "dollar":
                return j
            if word == "BEGIN":
                return j
            if word in ("AS", "IS") and after_as is None:
                after_as = j + 1
            elif after_as is not None and word in _STATEMENT_START:
                return j
    return None


def _after_condition(tokens: list[Token], i: int) -> int:
    """Past ``cond THEN|DO|LOOP``; without one (T-SQL ``IF cond stmt``), at the statement or BEGIN."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j]
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif depth == 0:
            word = _upper(t)
            if word in ("THEN", "DO", "LOOP"):
                return j + 1
            if j > i and word in _STATEMENT_START and word not in ("IF", "END"):
                return j
    return len(tokens)


def _tsql_cuts(sql: str, tokens: list[Token]) -> list[int]:
    """Where a T-SQL piece without semicolons starts another statement: a statement keyword first on its
    line at bracket depth 0 (not the first token)."""
    cuts: list[int] = []
    depth = 0
    start = 0  # first token of the statement being read
    for j, t in enumerate(tokens):
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif (
            j > start and depth == 0 and _upper(t) in _CUT_WORDS and "\n" in sql[tokens[j - 1].end : t.start]
        ):
            head = _upper(tokens[start])
            if head == "MERGE":
                continue  # WHEN MATCHED THEN UPDATE/INSERT/DELETE belong to it (T-SQL ends MERGE with ;)
            if head == "WITH" and not any(
                _upper(x) in _CUT_WORDS | {"SELECT"} for x in _depth0(tokens[start + 1 : j])
            ):
                continue  # WITH c AS (...) INSERT ...: the statement the CTEs belong to
            cuts.append(j)
            start = j
    return cuts


def _depth0(tokens: list[Token]) -> list[Token]:
    out, depth = [], 0
    for t in tokens:
        if t.kind == "open":
            depth += 1
        elif t.kind == "close":
            depth -= 1
        elif depth == 0:
            out.append(t)
    return out
