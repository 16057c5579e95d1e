"""What a Python module's classes say about its data: ORM tables, fields, hashed columns, generic views.

A mixin of the Python front end (:mod:`pyfront`): each class statement adds facts to ``FileIR.tables``
(``User`` -> its table, ``User#columns``, ``User#bases``, ``Form#model``, ``User#hashed``), which every
file's flows are named with once the scan is done (:mod:`finish`). Table names follow each framework's
own default when the code gives none: Django's ``<app>_<model>``, Flask-SQLAlchemy's snake_case class
name, Peewee's and Tortoise's lower-case class name, a SQLAlchemy subclass's base table (single-table
inheritance), ``auth_user`` for Django's user model.
"""

from __future__ import annotations

import re

import libcst as cst

from flowscope_hack_static.finish import AUTH_USER_MODEL, HASHED
from flowscope_hack_static.ir import Call, FileIR, Function, Stmt, Var


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


class ModelFacts:
    """The class-level facts; the front end provides the module, its IR, names and lines."""

    module: cst.Module
    ir: FileIR
    django: set[str]
    sqla: dict[str, str]

    def _name(self, dotted: str) -> str:
        raise NotImplementedError

    def line(self, node: cst.CSTNode) -> int:
        raise NotImplementedError

    def snippet(self, node: cst.CSTNode) -> str:
        raise NotImplementedError

    def _table_of_class(self, node: cst.ClassDef) -> None:
        """SQLAlchemy ``__tablename__``, Django ``Meta.db_table``, else Django's default ``<app>_<model>``
        with ``Meta.app_label`` or the app's folder as ``<app>``."""
        name = node.name.value
        bases = " ".join(self.module.code_for_node(b.value) for b in node.bases)
        label = ""
        for item in node.body.body:
            if isinstance(item, cst.SimpleStatementLine):
                for small in item.body:
                    found = _string_assign(small, "__tablename__")
                    if found:
                        self.ir.tables[name] = self.sqla[name] = found
                        return
            elif isinstance(item, cst.ClassDef) and item.name.value == "Meta":
                for inner in item.body.body:
                    for small in getattr(inner, "body", ()):
                        # Django's db_table, Peewee's table_name, Tortoise's table
                        found = next(filter(None, (_string_assign(small, k) for k in _META_TABLE)), None)
                        if found:
                            self.ir.tables[name] = found
                            return
                        label = _string_assign(small, "app_label") or label
        if any(  # SQLModel: class User(UserBase, table=True) is the table "user"
            k.keyword is not None and k.keyword.value == "table" and _dotted(k.value) == "True"
            for k in node.keywords
        ):
            self.ir.tables[name] = name.lower()
            return
        names = [self.module.code_for_node(b.value).rpartition(".")[2] for b in node.bases]
        texts = [self._name(self.module.code_for_node(b.value)) for b in node.bases]
        custom_user = any(b in ("AbstractUser", "AbstractBaseUser") for b in names)
        if "UserMixin" in names:  # Flask-Login's current_user is an instance of this model
            self.ir.tables["current_user#model"] = name
        if (
            ("Model" in bases and "models" in self._name(bases.split("(")[0]))  # django.db.models.Model
            or custom_user  # a custom user model
            or any(b in self.django for b in names)  # a subclass of a model declared above
        ):
            self.django.add(name)
            parts = self.ir.path.split("/")
            app = label or (
                parts[-2]
                if parts[-1] == "models.py" and len(parts) > 1
                else (parts[-3] if len(parts) > 2 and parts[-2] == "models" else "")
            )
            self.ir.tables[name] = f"{app}_{name.lower()}" if app else name.lower()
            if custom_user:  # what get_user_model() returns (settings.AUTH_USER_MODEL)
                self.ir.tables[AUTH_USER_MODEL] = self.ir.tables[name]
        elif any(
            t == "db.Model" or t.endswith(".db.Model") or t.startswith("flask_sqlalchemy.") for t in texts
        ):
            # Flask-SQLAlchemy names a db.Model's table after its class: PostComment -> post_comment
            self.ir.tables[name] = _snake(name)
        elif any(t in _LOWER_MODELS for t in texts):  # Peewee and Tortoise: the class name in lower case
            self.ir.tables[name] = name.lower()
        elif any(b in self.sqla for b in names) and "primary_key" not in self.module.code_for_node(node.body):
            # SQLAlchemy single-table inheritance: a subclass with no key of its own shares its base's table
            self.ir.tables[name] = next(self.sqla[b] for b in names if b in self.sqla)
        if name in self.ir.tables and name not in self.django:
            self.sqla[name] = self.ir.tables[name]

    def _generic_edit_view(self, node: cst.ClassDef) -> None:
        """Django's ``CreateView``/``UpdateView`` with ``model = M`` and ``form_class = F`` (or ``fields``):
        Django saves the posted form into ``M`` itself. Lowered as the method Django runs,
        ``<View>.form_valid``: ``F(request.POST).save()``; DRF's ``ModelViewSet`` and create/update views
        likewise, ``<View>.perform_create``: ``S(request.data).save()`` of their ``serializer_class``."""
        names = {self._name(self.module.code_for_node(b.value)).rpartition(".")[2] for b in node.bases}
        drf = bool(names & _DRF_WRITES)
        if not names & _EDIT_VIEWS and not drf:
            return
        attrs: dict[str, cst.BaseExpression] = {}
        for item in node.body.body:
            if isinstance(item, cst.SimpleStatementLine):
                for small in item.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target = small.targets[0].target
                        if isinstance(target, cst.Name):
                            attrs[target.value] = small.value
        model, form = _dotted(attrs["model"]) if "model" in attrs else None, None
        if "form_class" in attrs:
            form = _dotted(attrs["form_class"])
        if drf:  # a DRF view set or create/update view: its serializer_class saves request.data
            form = _dotted(attrs["serializer_class"]) if "serializer_class" in attrs else None
            model = None
        if form is None and model is not None:  # fields = [...]: the form Django makes for the model
            form = f"{node.name.value}Form"
            self.ir.tables[f"{form}#model"] = model.rpartition(".")[2]
            fields = attrs.get("fields")
            if isinstance(fields, cst.List | cst.Tuple):
                self.ir.tables[f"{form}#columns"] = ",".join(
                    str(el.value.evaluated_value)
                    for el in fields.elements
                    if isinstance(el.value, cst.SimpleString)
                )
        if form is None:
            return
        form = form.rpartition(".")[2]
        line, snip = self.line(node), self.snippet(node)
        posted = Var("request.data" if drf else "request.POST")
        made = Call(form, (posted,))
        save = Call(f"{form}({posted.name}).save", (), (), made)
        method = "perform_create" if drf else "form_valid"
        fn = Function(f"{node.name.value}.{method}", line, (("self", None), ("form", None)), method=True)
        fn.body.append(Stmt(save, line, snip))
        fn.calls.append(save.callee)
        self.ir.functions.append(fn)

    def _hashed_columns(self, node: cst.ClassDef) -> None:
        """SQLAlchemy's ``@validates("password") def v(self, key, value): return hash_password(value)``:
        the column is stored as the hash of whatever is written to it."""
        cols: list[str] = []
        for item in node.body.body:
            if not isinstance(item, cst.FunctionDef):
                continue
            for d in item.decorators:
                call = d.decorator
                if (
                    not isinstance(call, cst.Call)
                    or (_dotted(call.func) or "").rpartition(".")[2] != "validates"
                ):
                    continue
                body = self.module.code_for_node(item.body).lower()
                if any(w in body for w in _HASHING):
                    cols += [
                        str(a.value.evaluated_value)
                        for a in call.args
                        if isinstance(a.value, cst.SimpleString)
                    ]
        if cols:
            self.ir.tables[node.name.value + HASHED] = ",".join(cols)

    def _fields_of_class(self, node: cst.ClassDef) -> None:
        """A class's declared fields (``email: str``, ``email = models.EmailField()``, ``Column(...)``), its
        bases, and for a Django ``ModelForm`` the model its ``Meta`` names: a value written whole into a
        model, or saved by a form, is written field by field."""
        name = node.name.value
        bases = [self.module.code_for_node(b.value).rpartition(".")[2] for b in node.bases]
        if bases:  # a subclass has its bases' fields (class User(UserBase, table=True))
            self.ir.tables[f"{name}#bases"] = ",".join(bases)
        fields: list[str] = []
        meta: list[str] = []
        for item in node.body.body:
            if isinstance(item, cst.SimpleStatementLine):
                for small in item.body:
                    target: cst.BaseExpression | None = None
                    if isinstance(small, cst.AnnAssign):
                        target = small.target
                    elif (  # email = models.EmailField(...)
                        isinstance(small, cst.Assign)
                        and len(small.targets) == 1
                        and isinstance(small.value, cst.Call)
                    ):
                        target = small.targets[0].target
                    value = getattr(small, "value", None)
                    made = (_dotted(value.func) or "") if isinstance(value, cst.Call) else ""
                    if made.rpartition(".")[2] in _RELATIONS:  # posts = relationship(...): other rows
                        continue
                    if isinstance(target, cst.Name) and not target.value.startswith("_"):
                        fields.append(target.value)
            elif isinstance(item, cst.ClassDef) and item.name.value == "Meta":
                for inner in item.body.body:
                    for small in getattr(inner, "body", ()):
                        if (
                            isinstance(small, cst.Assign)
                            and len(small.targets) == 1
                            and isinstance(small.targets[0].target, cst.Name)
                        ):
                            key, value = small.targets[0].target.value, small.value
                            if key == "model" and _dotted(value):
                                self.ir.tables[f"{name}#model"] = str(_dotted(value)).rpartition(".")[2]
                            elif key == "fields" and isinstance(value, cst.Tuple | cst.List):
                                meta = [  # a ModelForm saves these, not its other declared fields
                                    str(el.value.evaluated_value)
                                    for el in value.elements
                                    if isinstance(el.value, cst.SimpleString)
                                ]
        if meta or fields:
            self.ir.tables[f"{name}#columns"] = ",".join(dict.fromkeys(meta or fields))


_LOWER_MODELS = frozenset(("peewee.Model", "tortoise.models.Model", "tortoise.Model"))
_RELATIONS = frozenset(("relationship", "relation", "backref", "association_proxy", "dynamic_loader"))
_EDIT_VIEWS = frozenset(("CreateView", "UpdateView"))
# Django REST framework's views that save request.data through their serializer_class
_DRF_WRITES = frozenset(
    (
        "ModelViewSet",
        "CreateAPIView",
        "ListCreateAPIView",
        "UpdateAPIView",
        "RetrieveUpdateAPIView",
        "RetrieveUpdateDestroyAPIView",
        "CreateModelMixin",
        "UpdateModelMixin",
    )
)
_HASHING = ("hash", "bcrypt", "argon2", "scrypt", "pbkdf2", "encrypt", "make_password")
_META_TABLE = ("db_table", "table_name", "table")
_CAMEL = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def _snake(name: str) -> str:
    """Flask-SQLAlchemy's default ``__tablename__`` (its ``camel_to_snake_case``)."""
    return _CAMEL.sub(r"_\1", name).lower().lstrip("_")


def _string_assign(small: cst.CSTNode, name: str) -> str | None:
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == name
        and isinstance(small.value, cst.SimpleString)
    ):
        return str(small.value.evaluated_value)
    return None
