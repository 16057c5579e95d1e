"""Generic mechanisms on small programs: what calls and methods mean, keyword arguments, logger names,
handler parameters, typed values written whole, and what is not a flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowscope_hack_static import pyfront
from flowscope_hack_static.engine import analyze_all
from flowscope_hack_static.packs import Models, load_models


@pytest.fixture(scope="module")
def models() -> Models:
    return load_models([])


def flows(models: Models, **files: str) -> set[tuple[str, str]]:
    """(source, target) of every unmasked flow of the Python files given as name=text."""
    irs = [pyfront.lower(text, name.replace("__", "/") + ".py") for name, text in files.items()]
    return {(str(f.source), str(f.target)) for r in analyze_all(irs, models) for f in r.flows if not f.masked}


REQ = "service://python-app/request"


def test_keyword_arguments_reach_the_parameters_of_their_names_and_kwargs(models: Models) -> None:
    src = (
        "import logging\nfrom flask import request\n"
        "def save(cur, name=None, email=None):\n"
        "    cur.execute('INSERT INTO people (name, email) VALUES (%s, %s)', (name, email))\n"
        "def log(logger, fmt, **kwargs):\n"
        "    logging.getLogger(logger).info(fmt.format(**kwargs))\n"
        "def view(cur):\n"
        "    save(cur, email=request.form['email'], name='x')\n"
        "    log('signups', '{who}', who=request.form['phone'])\n"
    )
    got = flows(models, app=src)
    assert (f"{REQ}#email", "postgres://default:5432/people#email") in got
    assert (f"{REQ}#phone", "log://python/signups#phone") in got  # the wrapper's logger, named by the caller
    assert not any(t.endswith("#name") for _, t in got)


def test_loggers_are_named_as_getlogger_names_them(models: Models) -> None:
    src = (
        "import logging\nfrom flask import request\n"
        "log = logging.getLogger(__name__)\naudit = logging.getLogger('audit')\n"
        "def f():\n"
        "    e = request.form['email']\n"
        "    log.info(e)\n    audit.warning(e)\n    logging.error(e)\n"
    )
    got = {t for _, t in flows(models, svc__views=src)}
    assert got == {"log://python/svc.views#email", "log://python/audit#email", "log://python/root#email"}


def test_methods_clear_pop_and_values_that_carry_no_data(models: Models) -> None:
    src = (
        "import logging\nfrom flask import request\n"
        "def f():\n"
        "    d = request.get_json()\n"
        "    seen = [request.form['phone']]\n"
        "    seen.clear()\n"
        "    d.pop('email')\n"
        "    logging.info('%s %s %s', len(request.form['name']), request.form['city'] is None, seen)\n"
        "    logging.info(d['email'])\n"
        "    logging.info(d['zip'])\n"
    )
    assert flows(models, app=src) == {(f"{REQ}#zip", "log://python/root#zip")}


def test_what_follows_a_return_or_raise_in_its_block_is_not_run(models: Models) -> None:
    src = (
        "import logging\nfrom flask import request\n"
        "def f():\n"
        "    e = request.form['email']\n"
        "    if not e:\n"
        "        raise ValueError()\n"
        "        logging.info(e)\n"
        "    try:\n"
        "        return e\n"
        "        logging.info('x %s', e)\n"
        "    except KeyError:\n"
        "        logging.warning(e)\n"
    )
    assert flows(models, app=src) == {(f"{REQ}#email", "log://python/root#email")}


def test_setters_builders_and_methods_that_fill_their_object(models: Models) -> None:
    src = (
        "from django.core.mail import EmailMessage\nfrom flask import request\n"
        "def f(cur):\n"
        "    msg = EmailMessage('hi')\n"
        "    msg.setTo(request.form['email'])\n"
        "    msg.send()\n"
        "    parts = []\n"
        "    parts.append(request.form['phone'])\n"
        "    cur.execute('INSERT INTO t (a) VALUES (%s)', (','.join(parts),))\n"
    )
    got = flows(models, app=src)
    assert (f"{REQ}#email", "service://email/smtp#email") in got
    assert (f"{REQ}#phone", "postgres://default:5432/t#a") in got


def test_route_parameters_and_typed_bodies_are_request_data(models: Models) -> None:
    models_py = (
        "from sqlmodel import SQLModel, Field\n"
        "class UserBase(SQLModel):\n    email: str\n    full_name: str\n    is_active: bool = True\n"
        "class UserCreate(UserBase):\n    password: str\n"
        "class User(UserBase, table=True):\n    id: int\n    hashed_password: str\n"
    )
    routes_py = (
        "import logging\nfrom fastapi import APIRouter, Depends\nfrom app.models import User, UserCreate\n"
        "router = APIRouter()\nlog = logging.getLogger('api')\n"
        "@router.post('/users/{username}')\n"
        "def create(username: str, user_in: UserCreate, page: int = 1, session=Depends(get_db)):\n"
        "    log.info(username)\n"
        "    session.add(User.model_validate(user_in))\n"
    )
    crud_py = (
        "from app.models import User, UserCreate\n"
        "def create_user(session, user_create: UserCreate):\n"
        "    session.add(User.model_validate(user_create))\n"
    )
    got = flows(models, app__models=models_py, app__routes=routes_py, app__crud=crud_py)
    assert (f"{REQ}#username", "log://python/api#username") in got
    assert (f"{REQ}#email", "postgres://default:5432/user#email") in got
    assert (f"{REQ}#full_name", "postgres://default:5432/user#full_name") in got
    assert ("code://default/app/crud.py#email", "postgres://default:5432/user#email") in got
    assert not any("is_active" in t or "password" in t or "page" in s for s, t in got)


def test_django_modelform_save_and_get_or_create_defaults(models: Models) -> None:
    models_py = (
        "from django.db import models\n"
        "class Base(models.Model):\n    class Meta:\n        abstract = True\n"
        "class Profile(Base):\n    name = models.CharField()\n    bio = models.TextField()\n"
    )
    forms_py = (
        "from django import forms\nfrom .models import Profile\n"
        "class ProfileForm(forms.ModelForm):\n"
        "    email = forms.EmailField()\n"
        "    class Meta:\n        model = Profile\n        fields = ['name']\n"
    )
    views_py = (
        "from .forms import ProfileForm\nfrom .models import Profile\n"
        "def edit(request):\n"
        "    form = ProfileForm(request.POST, instance=None)\n"
        "    form.save()\n"
        "    Profile.objects.get_or_create(name='x', defaults={'bio': request.POST['about']})\n"
    )
    got = flows(models, accounts__models=models_py, accounts__forms=forms_py, accounts__views=views_py)
    assert (f"{REQ}#name", "postgres://default:5432/accounts_profile#name") in got
    assert (f"{REQ}#about", "postgres://default:5432/accounts_profile#bio") in got
    assert not any(t.endswith("#email") for _, t in got)  # the form's extra field is not the model's


def test_email_and_task_queue_sinks(models: Models) -> None:
    src = (
        "from django.core.mail import send_mail\nfrom flask import request\nfrom .tasks import welcome\n"
        "def f():\n"
        "    e = request.form['email']\n"
        "    send_mail('Hi', 'body', 'noreply@x.org', [e])\n"
        "    welcome.delay(e)\n"
    )
    got = flows(models, app=src)
    assert got == {
        (f"{REQ}#email", "service://email/smtp#email"),
        (f"{REQ}#email", "queue://celery/welcome#email"),
    }


def test_pack_declared_handler_parameters(tmp_path: Path) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(
        "name: p\nlanguages: [python]\nsources:\n"
        "  - {function: '*Controller.*', param: 'user_*', namespace: 'service://api', name: signup}\n",
        encoding="utf-8",
    )
    models = load_models([pack])
    src = (
        "import logging\n"
        "class SignupController:\n"
        "    def handle(self, user_note, other):\n"
        "        logging.info(user_note)\n        logging.info(other)\n"
    )
    assert flows(models, app=src) == {("service://api/signup#user_note", "log://python/root#user_note")}
