"""Python ORM state a write depends on: fields set on an instance before it is written, which variables
hold model instances, and the unit of work a ``session.commit()`` flushes.

A mixin of :class:`sinks.Sinks` (and so of the analysis): ``user.country = c`` after ``User(...)``,
``request.user.phone = p`` before ``request.user.save()``, ``review = form.save(commit=False)`` then
``review.ip = ip``; ``Project(owner=user)`` stores ``user``'s key, not its data; and ``commit()`` writes
what the function set on instances it loaded or on Flask-Login's ``current_user``.
"""

from __future__ import annotations

from flowscope_hack_static.frame import Frame
from flowscope_hack_static.ir import Call, Expr, Stmt, Var
from flowscope_hack_static.packs import SinkModel
from flowscope_hack_static.taint import Label, Taint, flatten


class OrmState(Frame):
    def flow_into(
        self,
        sink: SinkModel,
        name: str,
        ok: bool,
        host: str,
        bootstrap: str | None,
        data: Taint,
        stmt: Stmt,
    ) -> None:
        raise NotImplementedError

    def set_fields(self, var: str, data: Taint) -> Taint:
        """What the function set on the instance before writing it: ``user.country = c`` after
        ``User(...)``, ``request.user.phone = p``, ``review.ip = ip`` after ``form.save(commit=False)``."""
        out = dict(data)
        made = self.made.get(var)
        form = made is not None and made.callee.rpartition(".")[2].endswith(("Form", "Serializer"))
        for k, labels in {} if form else self.env.get(var, {}).items():  # a form's arguments: no fields
            if k is not None and labels:
                out[k] = out.get(k, frozenset()) | _plain(labels)
        prefix = var + "."
        for name, taint in self.env.items():
            if name.startswith(prefix) and "." not in name[len(prefix) :] and taint:
                key = name[len(prefix) :]
                out[key] = out.get(key, frozenset()) | _plain(flatten(taint))
        return out

    def instance(self, e: Expr) -> bool:
        """Whether ``e`` is a variable holding a model instance (made by its class, or loaded by a query)."""
        made = self.made.get(e.name) if isinstance(e, Var) else None
        if made is None:
            return False
        last = made.callee.rpartition(".")[2]
        return (_cap(last) and not last.endswith(("Form", "Serializer"))) or _model_of(made) is not None

    def dirty(self, sink: SinkModel, stmt: Stmt) -> None:
        """``session.commit()`` writes the fields this function set on model instances it loaded
        (``user = db.session.get(User, id); user.email = e``) or on Flask-Login's ``current_user``."""
        changed: dict[str, dict[str | None, frozenset[Label]]] = {}
        for var, taint in self.env.items():
            base, _, attr = var.removeprefix("flask_login.").partition(".")
            if attr and "." not in attr and base == "current_user" and taint:
                changed.setdefault(base, {})[attr] = _plain(flatten(taint))
            elif not attr and var in self.made:
                cls = _model_of(self.made[var])
                fields: dict[str | None, frozenset[Label]] = {
                    k: _plain(v) for k, v in taint.items() if k is not None and v
                }
                if cls is not None and fields:
                    changed[cls] = {**changed.get(cls, {}), **fields}
        for cls, data in changed.items():
            self.flow_into(sink, f"orm?:{cls}", True, "", None, data, stmt)


def _model_of(made: Call) -> str | None:
    """The model class a query names: ``db.session.get(User, id)``, ``User.query.filter_by(...).first()``,
    ``db.first_or_404(sa.select(User).where(...))``; None for anything else (a constructor is no load)."""
    if _cap(made.callee.rpartition(".")[2]):
        return None
    todo: list[Expr] = [made]
    while todo:
        e = todo.pop(0)
        if isinstance(e, Var):
            found = next((p for p in e.name.split(".") if _cap(p)), None)
            if found:
                return found
        elif isinstance(e, Call):
            if ".query." in e.callee:  # User.query.get(id)
                found = next((p for p in e.callee.partition(".query.")[0].split(".") if _cap(p)), None)
                if found:
                    return found
            todo += [*e.args, *(v for _, v in e.kwargs)]
            if e.receiver is not None:
                todo.append(e.receiver)
    return None


def _cap(part: str) -> bool:
    return part[:1].isupper() and not part.isupper()


def _plain(labels: frozenset[Label]) -> frozenset[Label]:
    """The labels of data set on a field as it came (``user.country = country``), not of values computed
    from it by calls nothing models (``order.subtotal = base_subtotal(order, lines)``): a field set apart
    from its write counts only for the data itself."""
    return frozenset(lb for lb in labels if not lb.opaque)
