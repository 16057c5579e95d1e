"""The small language-neutral program form every front end lowers to, so one analysis serves all three.

Only what data-flow needs survives: variables, key/field reads, literals, calls (with the callee's text,
which model packs match), dict/struct literals keyed by constant strings, and string templates whose
constant parts name assets. Anything else becomes :class:`Other`, which just carries its sub-expressions.

The nodes are never changed once made, and are hashed and compared by value; they are declared
``unsafe_hash=True`` rather than ``frozen=True`` only because a frozen dataclass's ``__init__`` sets each
field through ``object.__setattr__``, which made building them ~5% of a Hack or C++ scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, unsafe_hash=True)
class Var:
    name: str  # without sigils; attribute paths dotted (``request.form``, ``self.db``)


@dataclass(slots=True, unsafe_hash=True)
class Sub:
    base: Expr
    key: str | None  # None: a computed key


@dataclass(slots=True, unsafe_hash=True)
class Lit:
    value: str | None  # string value; None for numbers, booleans, null


@dataclass(slots=True, unsafe_hash=True)
class Call:
    callee: str  # normalized text: ``db->insert``, ``Logger::log``, ``logging.info``, ``sha256``
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()
    receiver: Expr | None = None


@dataclass(slots=True, unsafe_hash=True)
class DictLit:
    entries: tuple[tuple[str | None, Expr], ...]


@dataclass(slots=True, unsafe_hash=True)
class Tmpl:
    """A string built from constant parts and expressions (interpolation, concatenation, f-string)."""

    parts: tuple[str | Expr, ...]


@dataclass(slots=True, unsafe_hash=True)
class Other:
    parts: tuple[Expr, ...] = ()


Expr = Var | Sub | Lit | Call | DictLit | Tmpl | Other

# A comparison or logical operator is lowered as a call named by the operator (``Call("==", (a, b))``):
# its operands are evaluated (a sink inside still fires) and its value, a boolean, carries no data.
BOOLEAN_OPS = frozenset(
    (
        "==",
        "!=",
        "===",
        "!==",
        "<",
        ">",
        "<=",
        ">=",
        "<=>",
        "&&",
        "||",
        "and",
        "or",
        "instanceof",
        "not",
        "in",
    )
)


@dataclass(slots=True, unsafe_hash=True)
class Stmt:
    """An assignment (``target`` set), an expression statement, or a return (``is_return``)."""

    value: Expr
    line: int
    snippet: str
    target: Expr | None = None
    guards: tuple[str, ...] = ()
    is_return: bool = False
    in_loop: bool = False


@dataclass
class Function:
    name: str  # ``Class.method`` or ``function``
    line: int
    params: tuple[tuple[str, str | None], ...] = ()  # (name, declared type)
    body: list[Stmt] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # callee texts, in order: the file's call graph
    # Python: ``@app.route(...)``, ``@strawberry.mutation`` as written (handler parameters are request data)
    decorators: tuple[str, ...] = ()
    method: bool = False  # Python: the first parameter is ``self`` or ``cls`` (a call ``o.f(x)`` passes o)
    kwargs_param: str | None = None  # Python: the ``**kwargs`` parameter, which keyword arguments fill
    defaults: tuple[str, ...] = ()  # Python: parameters whose default is ``Depends(...)``: not request data


@dataclass
class FileIR:
    path: str
    language: str
    functions: list[Function] = field(default_factory=list)
    constants: dict[str, str | bool | None] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # module-level x = redis.Redis(): x -> redis.Redis
    made: dict[str, Call] = field(default_factory=dict)  # module-level x = KafkaProducer(...): x -> the call
    error_regions: list[int] = field(default_factory=list)  # first line of each parse-error region
    # ORM facts, by class: ``User`` -> its table; ``User#columns`` -> its fields, comma-separated (model,
    # pydantic or dataclass); ``User#bases`` -> its bases; ``UserForm#model`` -> the model a Django
    # ModelForm saves. Every file's facts are merged before flows are named, so a view writes through a
    # model or form declared elsewhere.
    tables: dict[str, str] = field(default_factory=dict)


def walk(expr: Expr) -> list[Expr]:
    """Direct sub-expressions."""
    if isinstance(expr, Sub):
        return [expr.base]
    if isinstance(expr, Call):
        out = list(expr.args) + [v for _, v in expr.kwargs]
        return out + ([expr.receiver] if expr.receiver is not None else [])
    if isinstance(expr, DictLit):
        return [v for _, v in expr.entries]
    if isinstance(expr, Tmpl):
        return [p for p in expr.parts if not isinstance(p, str)]
    if isinstance(expr, Other):
        return list(expr.parts)
    return []


def access_path(expr: Expr) -> tuple[str, str | None] | None:
    """``$x`` -> (x, None); ``$x['k']`` -> (x, k); anything else has no stable path."""
    if isinstance(expr, Var):
        return (expr.name, None)
    if isinstance(expr, Sub) and isinstance(expr.base, Var):
        return (expr.base.name, expr.key)
    return None
