"""How a sink's asset is named: the kind's naming rule, ORM writes, and the Kafka cluster of a producer."""

from __future__ import annotations

from flowscope import naming
from flowscope.model import Asset
from flowscope_hack_static.ir import Call, DictLit, Expr, Lit, Other, Sub, Var
from flowscope_hack_static.packs import SinkModel
from flowscope_hack_static.taint import describe


def sink_target(sink: SinkModel, name: str, host_arg: str = "", bootstrap: str | None = None) -> Asset:
    """The sink's asset: its kind's naming rule applied to the resolved name (and host, Kafka servers)."""
    system = sink.system or naming.DEFAULT_SYSTEM
    if sink.kind in ("table", "sql"):
        return Asset(sink.namespace or "unknown://default", sink.name_template.format(name=name))
    if sink.kind == "log":
        return naming.log(name, system)
    if sink.kind == "http":
        host = sink.host or host_arg
        path = name
        if path.startswith("unresolved:") or host.startswith("unresolved:"):  # no literal URL: no host either
            return naming.http(path, naming.DEFAULT_SYSTEM)
        if not host and "://" in path:
            scheme, _, rest = path.partition("://")
            host, _, tail = rest.partition("/")
            path, host = "/" + tail, f"{scheme}://{host}"
        scheme, _, host = host.rpartition("://")
        return naming.http(path.split("?")[0], host or naming.DEFAULT_SYSTEM, scheme=scheme or "http")
    if sink.kind == "cache":
        return naming.cache(name, system)
    if sink.kind == "queue":
        return naming.queue(name, system)
    if sink.kind == "kafka":
        return naming.kafka(name, bootstrap or system)
    if sink.kind == "email":  # service://email/<provider>: who delivers it (smtp, sendgrid)
        return naming.service("email", name or "smtp")
    return Asset("file", name)


def orm_write(e: Call, how: str, made_here: dict[str, Call]) -> tuple[str, DictLit | None, Expr | None]:
    """``orm:<Class or Table variable>`` (the collector maps it to the table), the written fields, and when
    no fields are spelled out the value written whole (its fields are the model's: see finish.py).

    ``insert_values``: ``insert(users).values(email=x)``; ``instance_arg``: ``session.add(User(email=x))``;
    ``instance_receiver``: ``User(email=x).save()``, and a Django form's ``UserForm(request.POST).save()``;
    ``manager``: ``User.objects.create(email=x)``, ``get_or_create(defaults={...})`` and
    ``User.objects.filter(...).update(email=x)``; ``model_arg``: C++ ORMs' ``mapper.insert(user)``, a write
    only when ``user`` is a model the scanned code declares. An instance held in a variable is followed
    back to the constructor call that made it.
    """
    kwargs = [(k, v) for k, v in e.kwargs if k != "defaults"]
    for k, v in e.kwargs:  # get_or_create(email=e, defaults={"name": n}): both are written
        if k == "defaults" and isinstance(v, DictLit):
            kwargs += [(dk, dv) for dk, dv in v.entries if dk is not None]
    method = e.callee.rpartition(".")[2]
    if how == "manager" and method in ("create_user", "create_superuser"):  # (username, email, password)
        kwargs += [
            (k, v) for k, v in zip(("username", "email"), e.args, strict=False)
        ]  # the password: hashed
        kwargs = [(k, v) for k, v in kwargs if k != "password"]
    fields = DictLit(tuple(kwargs)) if kwargs else None
    if fields is None and e.args and isinstance(e.args[0], DictLit) and how != "manager":
        fields = e.args[0]
    if how == "manager":
        return f"orm:{e.callee.partition('.objects')[0]}", fields, None
    if how == "assignments":
        return _assigned(e, made_here)
    if how == "model_class":  # Peewee's and Tortoise's User.create(email=x): a declared model only
        return f"orm?:{e.callee.rpartition('.')[0]}", fields, None
    if how == "insert_values":
        made = e.receiver
        while isinstance(made, Call) and _last(made.callee) not in ("insert", "update") and made.receiver:
            made = made.receiver  # update(User).where(...).values(...): down to update(User)
        if isinstance(made, Call):  # insert(users) / sqlalchemy.insert(User) / users.insert()
            table = made.args[0] if made.args else made.receiver
            return f"orm:{describe(table) if table is not None else '?'}", fields, None
        return "orm:?", fields, None
    # ``x.save()`` is a write only when x is an instance of a model the scanned code declares: ``orm?:``
    kind = "orm?" if how in ("instance_receiver", "model_arg") else "orm"
    given = e.receiver if how == "instance_receiver" else (e.args[0] if e.args else None)
    inst = given
    if isinstance(inst, Var) and inst.name in made_here:
        inst = made_here[inst.name]
    if isinstance(inst, Call) and inst.callee.endswith(".save") and isinstance(inst.receiver, Var):
        inst = made_here.get(inst.receiver.name, inst)  # review = form.save(commit=False): the form's
    if isinstance(inst, Call):
        # User(...), User.model_validate(...), User.objects.get(...): the model is the capitalized name;
        # an instance a plain function returned (get_user(...)) is a write only to a declared model
        cls = next((p for p in reversed(inst.callee.replace("::", ".").split(".")) if p[:1].isupper()), None)
        if cls is None:
            return f"orm?:{inst.callee}", None, given
        if cls.endswith(("Form", "Serializer")) and how == "instance_receiver":  # Form(request.POST).save()
            data = inst.args[0] if inst.args else dict(inst.kwargs).get("data")
            return f"{kind}:{cls}", None, data
        if cls == inst.callee.replace("::", ".").rpartition(".")[2] and "(" not in inst.callee:
            cls = inst.callee.replace("::", ".")  # the class as imported (django.contrib.auth.models.User)
        if inst.kwargs and cls.rpartition(".")[2] == inst.callee.replace("::", ".").rpartition(".")[2]:
            return f"{kind}:{cls}", DictLit(tuple(inst.kwargs)), None  # User(email=x)
        if (
            inst.callee.replace("::", ".").rpartition(".")[2] != cls.rpartition(".")[2]
        ):  # User.model_validate(x)
            return f"{kind}:{cls}", None, given
        return f"{kind}:{cls}", fields, None if fields is not None else given
    if isinstance(inst, Var) and inst.name.endswith("request.user"):  # Django's signed-in user
        return f"{kind}:get_user_model", None, given
    return f"{kind}:{describe(inst) if inst is not None else '?'}", None, given


def _assigned(e: Call, made_here: dict[str, Call]) -> tuple[str, DictLit | None, Expr | None]:
    """sqlpp11's ``insert_into(users).set(users.email = x)``, ``update(users).set(...)``: the table is the
    struct the statement names (sqlpp11's ddl2cpp names it as the table), each assignment a column."""
    table = e.receiver.args[0] if isinstance(e.receiver, Call) and e.receiver.args else None
    if isinstance(table, Var) and table.name in made_here:
        name = made_here[table.name].callee.replace("::", ".").rpartition(".")[2]
    else:
        name = f"unresolved:{describe(table) if table is not None else '?'}"
    entries = tuple(
        (a.parts[0].key, a.parts[1])
        for a in e.args
        if isinstance(a, Other) and len(a.parts) == 2 and isinstance(a.parts[0], Sub)
    )
    return name, DictLit(entries), None


def servers(receiver: Expr | None, made_here: dict[str, Call], made_in_module: dict[str, Call]) -> str | None:
    """The first bootstrap server given to the producer's constructor (kafka-python's
    ``bootstrap_servers=`` string or list, confluent's ``{"bootstrap.servers": "k1:9092,k2:9092"}``),
    when the producer is a variable made here or at module level: OpenLineage names a topic by it
    (``kafka://host:port``), as the probes do at run time."""
    if not isinstance(receiver, Var):
        return None
    made = made_here.get(receiver.name) or made_in_module.get(receiver.name)
    if made is None:
        return None
    value = dict(made.kwargs).get("bootstrap_servers")
    if value is None and made.args and isinstance(made.args[0], DictLit):
        value = dict(made.args[0].entries).get("bootstrap.servers")
    if isinstance(value, DictLit) and value.entries:
        value = value.entries[0][1]
    first = value.value.split(",")[0].strip() if isinstance(value, Lit) and value.value else ""
    if not first:
        return None
    return first if ":" in first else f"{first}:9092"  # Kafka's default port, as the probes name it


def _last(callee: str) -> str:
    return callee.rpartition(".")[2].partition("(")[0]


# SQLAlchemy's statement builders: executing one runs what the builder says (a select reads; an insert's or
# update's .values(...) is the write, modelled on the builder itself)
BUILDERS = frozenset(("select", "insert", "update", "delete", "union", "union_all", "exists", "values"))


def builder(e: Expr | None) -> bool:
    """Whether ``e`` is a SQLAlchemy statement built in code (``select(User).where(...)``)."""
    while isinstance(e, Call):
        head = e.callee.partition("(")[0].rpartition(".")[2]
        if _last(e.callee) in BUILDERS or head in BUILDERS:
            return True
        e = e.receiver
    return False
