"""What the whole scan knows, applied to each flow once every file is analyzed.

A file names an ORM write by the class it writes (``orm:User``); the class, its table and its fields are
often declared in another file (``models.py``). So flows are finished after the fixed point, with the ORM
facts of every file (``FileIR.tables``): the class becomes its table, a Django form its model's table, and
a value written or sent whole (``session.add(User.model_validate(user_in))``, ``UserForm(request.POST)
.save()``, a parameter typed ``user_in: UserCreate``) becomes one flow per field of the model or type that
names personal data, each with its category. A typed value with no such field is no flow.
"""

from __future__ import annotations

from dataclasses import replace

from flowscope import naming
from flowscope.model import Asset
from flowscope_hack_static.classify import classify, request_field
from flowscope_hack_static.elements import tagged
from flowscope_hack_static.taint import Flow

TYPED = "typed://"  # a parameter typed with a class: typed://<Class>, name <file>#<parameter>


def typed_asset(cls: str, path: str, param: str) -> Asset:
    return Asset(f"{TYPED}{cls}", f"{path}#{param}")


def _columns(tables: dict[str, str], cls: str, depth: int = 0) -> list[str]:
    """A class's fields with its bases' (a form's: its Meta.fields, else its model's)."""
    own = tables.get(f"{cls}#columns")
    if own is None and f"{cls}#model" in tables:
        return _columns(tables, tables[f"{cls}#model"], depth + 1)
    out = [c for c in own.split(",") if c] if own else []
    if depth < 8:  # a cycle of bases in broken code stops here
        for base in (tables.get(f"{cls}#bases") or "").split(","):
            if base and base != cls:
                out += [c for c in _columns(tables, base, depth + 1) if c not in out]
    return out


# ``<name>#auth``: the name holds get_user_model(), the custom user model the scan declares (an
# AbstractUser's table, under AUTH_USER_MODEL) or else Django's own ``auth_user``
AUTH_USER = "#auth"
DJANGO_DEFAULT = "#django_default"  # a model a Django file imports from <app>.models: <app>_<model>
AUTH_USER_MODEL = "#auth_user_model"
_DJANGO_USER = "django.contrib.auth.models.User"


def _table(tables: dict[str, str], cls: str) -> str | None:
    """The table of a model (a form's: its model's); Django's user model is ``auth_user`` unless the scan
    declares a custom one (what ``get_user_model()`` returns then)."""
    model = tables.get(f"{cls}#model")
    if model:
        cls = model
    found = tables.get(cls)
    if found is None and (cls + AUTH_USER in tables or cls == "get_user_model"):
        return tables.get(AUTH_USER_MODEL, "auth_user")
    return found or tables.get(cls + DJANGO_DEFAULT)


SECRETS = "user.authorization."
HASHED = "#hashed"  # ``<Class>#hashed``: columns its SQLAlchemy ``@validates`` hashes on every write


def finish(flow: Flow, tables: dict[str, str]) -> list[Flow]:
    """The flow as the whole scan names it: none, one, or one per personal field of a value written whole."""
    named = orm_table(flow, tables)
    if named is None:
        return []
    orm = _orm_class(flow.target.name)
    hashed = tables.get(f"{orm}{HASHED}") if orm else None
    if hashed and named.target.field in hashed.split(","):  # Users(password=p): stored as its hash
        named = replace(named, masked=True)
    source, target = named.source, named.target
    typed = source.namespace.startswith(TYPED)
    path = source.name.rpartition("#")[0] if typed else ""
    if typed and source.field is not None:  # user_in.email: its field, the code holding it
        return [replace(named, source=naming.code(path, variable=source.field))]
    if source.field is not None or (target.field is not None and not typed):
        return [named]
    orm = _orm_class(flow.target.name)
    owner = tables.get(f"{orm}#model", orm) if orm else None
    columns = _columns(tables, orm) if orm else []
    if typed:  # the fields the value has, and the model takes
        cls = source.namespace[len(TYPED) :]
        if cls == owner:  # a model instance written back to its own table: no new data by itself
            return []
        has = _columns(tables, cls)
        columns = [c for c in has if c in columns] if columns and has else has or columns
        owner = owner or cls
    if not columns:
        return [] if typed else [named]
    out = []
    for column in columns:
        category = classify(column, owner or "")  # a Profile's name is a person's
        if category is None and not typed:  # a posted form's text, comment or bio: what a person wrote
            category = request_field(column)
        if category is None or category.startswith(SECRETS):
            continue  # a password or token column is filled by hashing or by the server, not whole values
        src = naming.code(path, variable=column) if typed else Asset(source.namespace, source.name, column)
        dst = Asset(target.namespace, target.name, column if target.field is None else target.field)
        hops = (tagged(named.hops[0], category), *named.hops[1:]) if named.hops else named.hops
        out.append(replace(named, source=src, target=dst, hops=hops))
    return out


def _orm_class(name: str) -> str | None:
    for marker in ("orm:", "orm?:"):
        at = name.find(marker)
        if at >= 0:
            return name[at + len(marker) :].partition("(")[0].rpartition(".")[2]
    return None


def orm_table(flow: Flow, tables: dict[str, str]) -> Flow | None:
    """``orm:app.models.User`` -> the table the scanned code maps ``User`` to (unresolved when none does);
    ``orm?:x`` (``x.save()``) -> that table, or no flow when ``x`` is no model the code declares."""
    target = flow.target
    name = target.name
    if "orm" not in name:
        return flow
    at = name.find("orm:")
    maybe = at < 0
    if maybe:
        at = name.find("orm?:")
        if at < 0:
            return flow
    prefix, rest = name[:at], name[at + (5 if maybe else 4) :]
    cls = rest.partition("(")[0]
    table = "auth_user" if cls == _DJANGO_USER else _table(tables, cls.rpartition(".")[2])
    if table is None and maybe:
        return None
    if table is None:
        asset = Asset(target.namespace, f"{prefix}unresolved:{rest}", target.field)
        return replace(flow, target=asset, unresolved=True)
    return replace(flow, target=Asset(target.namespace, f"{prefix}{table}", target.field))
