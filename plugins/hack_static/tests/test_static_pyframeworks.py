"""Python framework models: each rule on a small snippet written for it (table names, sources, sinks,
propagation), so each rule is proven alone and a regression names the rule it broke."""

from __future__ import annotations

from pathlib import Path

from flowscope.contracts import CollectContext
from flowscope.model import Signal
from flowscope_hack_static.collector import HackStaticCollector, Settings


def flows(root: Path, files: dict[str, str]) -> set[tuple[str, str]]:
    """(source, target) of every unmasked flow a scan of ``files`` finds."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = Settings(cache=False, workers=1)
    ctx = CollectContext(collector="hack_static", settings=settings, base_dir=root)
    out = [s for s in HackStaticCollector().collect(ctx) if isinstance(s, Signal)]
    return {(str(s.source), str(s.target)) for s in out if not s.transformation.masking}


PG = "postgres://default:5432/"
REQ = "service://python-app/request#"


def test_flask_sqlalchemy_names_a_db_model_table_after_its_class(tmp_path: Path) -> None:
    models = (
        "from app import db\n\n"
        "class BlogPost(db.Model):\n    body = db.Column(db.Text)\n\n"
        "class Account(db.Model):\n    __tablename__ = 'accounts'\n    email = db.Column(db.String)\n"
    )
    views = (
        "from flask import request\nfrom app import db\nfrom app.models import BlogPost, Account\n\n"
        "def post():\n"
        "    db.session.add(BlogPost(body=request.form['body']))\n"
        "    db.session.add(Account(email=request.form['email']))\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "body", PG + "blog_post#body"), (REQ + "email", PG + "accounts#email")}


def test_peewee_and_tortoise_tables(tmp_path: Path) -> None:
    models = (
        "import peewee\nfrom tortoise import models\n\n"
        "class Person(peewee.Model):\n    email = peewee.CharField()\n\n"
        "class Member(models.Model):\n    phone = CharField()\n    class Meta:\n        table = 'members'\n"
    )
    views = (
        "from flask import request\nfrom app.models import Person, Member\n\n"
        "def post(session):\n"
        "    session.add(Person(email=request.form['email']))\n"
        "    session.add(Member(phone=request.form['phone']))\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "email", PG + "person#email"), (REQ + "phone", PG + "members#phone")}


def test_django_user_model_is_auth_user_unless_the_scan_declares_one(tmp_path: Path) -> None:
    views = (
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import User as AuthUser\n\n"
        "User = get_user_model()\n\n"
        "def signup(request):\n"
        "    User(email=request.POST['email']).save()\n"
        "    AuthUser.objects.create(username=request.POST['username'])\n"
    )
    got = flows(tmp_path / "a", {"accounts/views.py": views})
    assert got == {(REQ + "email", PG + "auth_user#email"), (REQ + "username", PG + "auth_user#username")}
    custom = "from django.contrib.auth.models import AbstractUser\n\nclass Member(AbstractUser):\n    pass\n"
    got = flows(tmp_path / "b", {"accounts/views.py": views, "people/models.py": custom})
    assert (REQ + "email", PG + "people_member#email") in got  # get_user_model() is the custom model
    assert (REQ + "username", PG + "auth_user#username") in got  # Django's own User stays auth_user


MODELS = "from app import db\n\nclass Users(db.Model):\n    __tablename__ = 'users'\n\nclass Teams(db.Model):\n    pass\n"


def test_a_constructor_keeps_its_keyword_arguments_apart(tmp_path: Path) -> None:
    """``Users(name=n, email=e, password=p)``: ``user.email`` is ``e`` alone, and ``user.id`` (the key the
    store gave the object) none of them."""
    views = (
        "import logging\nfrom flask import request\nfrom app import db\nfrom app.models import Users, Teams\n\n"
        "def register():\n"
        "    user = Users(name=request.form['name'], email=request.form['email'], password=request.form['password'])\n"
        "    db.session.add(user)\n"
        "    logging.info(user.email)\n"
        "    db.session.add(Teams(captain_id=user.id))\n"
    )
    got = flows(tmp_path, {"app/models.py": MODELS, "app/views.py": views})
    assert (REQ + "email", "log://python/root#email") in got
    assert not [f for f in got if f[1].startswith("log://") and f[0] != REQ + "email"]
    assert not [f for f in got if "teams" in f[1]]
    assert (REQ + "name", PG + "users#name") in got


def test_an_attribute_set_after_the_constructor_is_written_too(tmp_path: Path) -> None:
    views = (
        "from flask import request\nfrom app import db\nfrom app.models import Users\n\n"
        "def register():\n"
        "    country = request.form.get('country')\n"
        "    user = Users(email=request.form['email'])\n"
        "    if country:\n"
        "        user.country = country\n"
        "    db.session.add(user)\n"
    )
    got = flows(tmp_path, {"app/models.py": MODELS, "app/views.py": views})
    assert got == {(REQ + "email", PG + "users#email"), (REQ + "country", PG + "users#country")}


def test_an_orm_query_returns_stored_records_not_its_filter(tmp_path: Path) -> None:
    """``Users.query.filter_by(email=e).first()`` is a read: its result is no copy of ``e``."""
    views = (
        "import logging\nfrom flask import request\nfrom app.models import Users\n\n"
        "def reset():\n"
        "    email = request.form['email']\n"
        "    user = Users.query.filter_by(email=email).first_or_404()\n"
        "    found = Users.objects.get(email=email)\n"
        "    logging.info('reset %s %s', user, found)\n"
    )
    assert flows(tmp_path, {"app/models.py": MODELS, "app/views.py": views}) == set()


def test_a_validates_hook_that_hashes_masks_its_column(tmp_path: Path) -> None:
    models = (
        "from sqlalchemy.orm import validates\nfrom app import db\n\n"
        "class Users(db.Model):\n    __tablename__ = 'users'\n\n"
        "    @validates('password')\n"
        "    def validate_password(self, key, plaintext):\n"
        "        return hash_password(str(plaintext))\n"
    )
    views = (
        "from flask import request\nfrom app import db\nfrom app.models import Users\n\n"
        "def register():\n"
        "    db.session.add(Users(email=request.form['email'], password=request.form['password']))\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "email", PG + "users#email")}  # the password is stored hashed: masked


def test_a_value_written_whole_is_not_spread_into_secret_columns(tmp_path: Path) -> None:
    """``user.from_dict(request.get_json())``: the body is guessed into the model's personal columns,
    but not into a password hash or a token (those are filled by hashing or by the server), nor into a
    relationship (other rows, not a column)."""
    models = (
        "from app import db\n\nclass User(db.Model):\n"
        "    email = db.Column(db.String)\n    password_hash = db.Column(db.String)\n"
        "    token = db.Column(db.String)\n"
        "    followers: so.WriteOnlyMapped['User'] = so.relationship(back_populates='following')\n"
    )
    views = (
        "from flask import request\nfrom app import db\nfrom app.models import User\n\n"
        "def create():\n"
        "    user = User()\n"
        "    user.from_dict(request.get_json())\n"
        "    db.session.add(user)\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {("service://python-app/request#email", PG + "user#email")}


def test_a_wtforms_field_is_the_posted_field_of_its_name(tmp_path: Path) -> None:
    views = (
        "from app import db\nfrom app.forms import PostForm\nfrom app.models import Post\n\n"
        "def index():\n"
        "    form = PostForm()\n"
        "    if form.validate_on_submit():\n"
        "        db.session.add(Post(body=form.post.data, remember=form.remember_me.data))\n"
    )
    models = "from app import db\n\nclass Post(db.Model):\n    body = db.Column(db.Text)\n"
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "post", PG + "post#body")}  # what a person posts; remember_me is no data


def test_a_management_command_output_is_a_log(tmp_path: Path) -> None:
    cmd = (
        "from django.core.management.base import BaseCommand\nfrom app.models import Profile\n\n"
        "class Command(BaseCommand):\n"
        "    def handle(self, **options):\n"
        "        for profile in Profile.objects.all():\n"
        "            self.stdout.write(f'Deleting {profile.user.email}')\n"
    )
    got = flows(tmp_path, {"app/management/commands/prune.py": cmd})
    assert got == {("code://default/app/management/commands/prune.py#email", "log://python/stdout#email")}


def test_a_session_named_db_writes_declared_models_only(tmp_path: Path) -> None:
    models = "from app.db import Base\n\nclass User(Base):\n    __tablename__ = 'users'\n    email = Column(String)\n"
    repo = (
        "from app.models import User\n\n"
        "class Repo:\n"
        "    def __init__(self, db):\n        self.db = db\n\n"
        "    def create(self, email, seen):\n"
        "        self.db.add(User(email=email))\n"
        "        seen.add(email)\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/repo.py": repo})
    assert got == {("code://default/app/repo.py#email", PG + "users#email")}  # a set's add is no write


def test_a_django_email_message_is_sent_where_it_is_built(tmp_path: Path) -> None:
    """The message goes out through a thread elsewhere: what it is built from is e-mailed."""
    lib = (
        "from django.core.mail import EmailMultiAlternatives as Message\n\n"
        "def make_message(to, ctx):\n"
        "    return Message('Hello', 'body', 'from@example.com', [to])\n\n"
        "def notice(to, ctx):\n"
        "    EmailThread(make_message(to, ctx)).start()\n"
    )
    cmd = "from app.emails import notice\n\ndef run(profile):\n    notice(profile.user.email, {})\n"
    got = flows(tmp_path, {"app/emails.py": lib, "app/run.py": cmd})
    assert ("code://default/app/run.py#email", "service://email/smtp#email") in got


def test_a_framework_function_is_not_the_scanned_function_of_its_name(tmp_path: Path) -> None:
    """``auth.login(request, user)`` is Django's login, not the project's ``emails.login``."""
    lib = "from django.core.mail import send_mail\n\ndef login(to, ctx):\n    send_mail('Login', 'x', 'a@b.c', [to])\n"
    view = (
        "from django.contrib import auth\nfrom django.http import HttpRequest\n\n"
        "def view(request: HttpRequest):\n"
        "    auth.login(request, None)\n"
    )
    assert flows(tmp_path, {"app/emails.py": lib, "app/views.py": view}) == set()


def test_a_method_of_a_new_object_is_that_class_method_or_none(tmp_path: Path) -> None:
    """``WebhookHandler(event).handle()`` is not some other class's ``handle`` of the same name."""
    cmd = "class Command:\n    def handle(self):\n        self.stdout.write(self.event)\n"
    view = (
        "class WebhookHandler:\n"
        "    def __init__(self, event):\n        self.event = event\n\n"
        "    def handle(self):\n        return None\n\n"
        "def hook(request):\n"
        "    return WebhookHandler(request.headers['x-user-email']).handle()\n"
    )
    assert flows(tmp_path, {"app/cmd.py": cmd, "app/views.py": view}) == set()


def test_a_django_create_view_saves_the_posted_form_into_its_model(tmp_path: Path) -> None:
    models = (
        "from django.contrib.auth.models import AbstractUser\nfrom django.db import models\n\n"
        "class Member(AbstractUser):\n    pass\n\n"
        "class Review(models.Model):\n    text = models.TextField()\n    rating = models.IntegerField()\n"
    )
    forms = (
        "from django.contrib.auth.forms import UserCreationForm\nfrom .models import Member\n\n"
        "class SignupForm(UserCreationForm):\n"
        "    class Meta:\n        model = Member\n        fields = ('username', 'email', 'password1', 'password2')\n"
    )
    views = (
        "from django.views.generic import CreateView, UpdateView, DetailView\n"
        "from .forms import SignupForm\nfrom .models import Member, Review\n\n"
        "class SignupView(CreateView):\n    model = Member\n    form_class = SignupForm\n\n"
        "class ReviewEdit(UpdateView):\n    model = Review\n    fields = ['text']\n\n"
        "class ReviewShow(DetailView):\n    model = Review\n"
    )
    got = flows(tmp_path, {"shop/models.py": models, "shop/forms.py": forms, "shop/views.py": views})
    assert got == {
        (REQ + "username", PG + "shop_member#username"),
        (REQ + "email", PG + "shop_member#email"),  # the password fields: UserCreationForm hashes them
        (REQ + "text", PG + "shop_review#text"),  # only the fields the view names
    }


def test_an_objects_dict_is_all_its_fields(tmp_path: Path) -> None:
    """``Schema(**data.__dict__)``: the typed input's personal fields reach the model written."""
    models = (
        "from app.db import Base\n\nclass User(Base):\n    __tablename__ = 'users'\n"
        "    email = Column(String)\n    password = Column(String)\n"
    )
    types = (
        "import strawberry\n\n@strawberry.input\nclass CreateUserInput:\n    email: str\n    password: str\n"
    )
    case = (
        "from app.models import User\nfrom app.types import CreateUserInput\n\n"
        "def execute(db, data: CreateUserInput):\n"
        "    validated = Schema(**data.__dict__)\n"
        "    validated.password = hasher.hash(validated.password)\n"
        "    db.add(User(**validated.model_dump()))\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/types.py": types, "app/case.py": case})
    assert got == {("code://default/app/case.py#email", PG + "users#email")}  # the password is hashed


def test_commit_writes_what_the_function_set_on_loaded_instances(tmp_path: Path) -> None:
    models = (
        "from flask_login import UserMixin\nfrom app import db\n\n"
        "class User(UserMixin, db.Model):\n    email = db.Column(db.String)\n\n"
        "class Note(db.Model):\n    text = db.Column(db.Text)\n"
    )
    views = (
        "import sqlalchemy as sa\nfrom flask import request\nfrom flask_login import current_user\n"
        "from app import db\nfrom app.models import User, Note\n\n"
        "def profile():\n"
        "    current_user.email = request.form['email']\n"
        "    db.session.commit()\n\n"
        "def edit(id):\n"
        "    note = db.session.scalar(sa.select(Note).where(Note.id == id))\n"
        "    note.text = request.form['text']\n"
        "    other = Helper()\n"
        "    other.body = request.form['comment']\n"
        "    db.session.commit()\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "email", PG + "user#email"), (REQ + "text", PG + "note#text")}


def test_a_sqlalchemy_subclass_without_a_key_shares_its_base_table(tmp_path: Path) -> None:
    models = (
        "from app import db\n\n"
        "class FieldEntries(db.Model):\n    __tablename__ = 'field_entries'\n"
        "    id = db.Column(db.Integer, primary_key=True)\n    value = db.Column(db.JSON)\n\n"
        "class UserFieldEntries(FieldEntries):\n    __mapper_args__ = {'polymorphic_identity': 'user'}\n\n"
        "class Admin(FieldEntries):\n    __tablename__ = 'admins'\n"
    )
    views = (
        "from flask import request\nfrom app import db\nfrom app.models import UserFieldEntries, Admin\n\n"
        "def register():\n"
        "    db.session.add(UserFieldEntries(value=request.form['comment']))\n"
        "    db.session.add(Admin(value=request.form['bio']))\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {(REQ + "comment", PG + "field_entries#value"), (REQ + "bio", PG + "admins#value")}


def test_drf_serializers_create_user_and_request_user(tmp_path: Path) -> None:
    """A DRF ModelSerializer saves what it was given into its Meta model; ``create_user(username, email,
    password)`` writes the first two (the password is hashed); ``request.user`` is the user model."""
    models = (
        "from django.db import models\nfrom django.contrib.auth.models import AbstractUser\n\n"
        "class Customer(AbstractUser):\n    phone = models.CharField(max_length=20)\n\n"
        "class Review(models.Model):\n    text = models.TextField()\n    email = models.EmailField()\n"
    )
    serializers = (
        "from rest_framework import serializers\nfrom .models import Review\n\n"
        "class ReviewSerializer(serializers.ModelSerializer):\n"
        "    class Meta:\n        model = Review\n        fields = ['text', 'email']\n"
    )
    views = (
        "from django.contrib.auth import get_user_model\nfrom .serializers import ReviewSerializer\n\n"
        "User = get_user_model()\n\n"
        "def review(request):\n"
        "    serializer = ReviewSerializer(data=request.data)\n"
        "    serializer.is_valid(raise_exception=True)\n"
        "    serializer.save()\n\n"
        "def signup(request):\n"
        "    User.objects.create_user(request.POST['username'], request.POST['email'], request.POST['password'])\n\n"
        "def profile(request):\n"
        "    request.user.phone = request.POST['phone']\n"
        "    request.user.save()\n"
    )
    got = flows(
        tmp_path, {"shop/models.py": models, "shop/serializers.py": serializers, "shop/views.py": views}
    )
    assert got == {
        (REQ + "text", PG + "shop_review#text"),
        (REQ + "email", PG + "shop_review#email"),
        (REQ + "username", PG + "shop_customer#username"),
        (REQ + "email", PG + "shop_customer#email"),
        (REQ + "phone", PG + "shop_customer#phone"),
    }


def test_peewee_tortoise_create_and_asyncpg_parameters(tmp_path: Path) -> None:
    models = (
        "import peewee\nfrom tortoise.models import Model\n\n"
        "class Person(peewee.Model):\n    email = peewee.CharField()\n\n"
        "class Member(Model):\n    phone = fields.CharField(max_length=20)\n"
    )
    routes = (
        "from fastapi import APIRouter\nfrom pydantic import BaseModel\nfrom .db import Person, Member\n\n"
        "router = APIRouter()\n\n"
        "class SignupIn(BaseModel):\n    email: str\n    phone: str\n\n"
        "@router.post('/signup')\n"
        "async def signup(body: SignupIn, conn=None):\n"
        "    Person.create(email=body.email)\n"
        "    await Member.create(phone=body.phone)\n"
        "    await Widget.create(name=body.email)\n"
        "    await conn.execute('INSERT INTO accounts (email, phone) VALUES ($1, $2)', body.email, body.phone)\n"
    )
    got = flows(tmp_path, {"api/db.py": models, "api/routes.py": routes})
    assert got == {
        (REQ + "email", PG + "person#email"),
        (REQ + "phone", PG + "member#phone"),
        (REQ + "email", PG + "accounts#email"),  # each parameter into its column
        (REQ + "phone", PG + "accounts#phone"),
    }  # Widget.create: no model the scan declares, no write


def test_sqlalchemy_statements_executed(tmp_path: Path) -> None:
    """``update(User).where(...).values(email=e)`` writes users.email; ``text("INSERT ...")`` with its
    parameters is SQL; executing a ``select(...)`` is a read: no flow, not even an unresolved one."""
    models = "class User(Base):\n    __tablename__ = 'users'\n    email = Column(String)\n"
    crud = (
        "from sqlalchemy import select, text, update\nfrom .models import User\n\n"
        "def change_email(session, user_id, email):\n"
        "    session.execute(update(User).where(User.id == user_id).values(email=email))\n\n"
        "def audit(session, email):\n"
        "    session.execute(text('INSERT INTO audit_emails (email) VALUES (:email)'), {'email': email})\n\n"
        "def find(session, email):\n"
        "    return session.execute(select(User).where(User.email == email)).scalar_one()\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/crud.py": crud})
    src = "code://default/app/crud.py#email"
    assert got == {(src, PG + "users#email"), (src, PG + "audit_emails#email")}


def test_a_django_model_the_scan_does_not_declare_gets_the_default_table(tmp_path: Path) -> None:
    """``from hc.api.models import Channel`` in a Django file, the models module not scanned:
    ``api_channel``; a model the scan declares keeps its own table."""
    views = (
        "from django.contrib.auth.models import User\nfrom hc.api.models import Channel\n"
        "from hc.front.models import Check\n\n"
        "def make_user(email):\n"
        "    channel = Channel(kind='email')\n"
        "    channel.value = email\n"
        "    channel.save()\n"
        "    Check(owner_email=email).save()\n"
    )
    models = "from django.db import models\n\nclass Check(models.Model):\n    class Meta:\n        db_table = 'checks'\n"
    got = flows(tmp_path, {"hc/accounts/views.py": views, "hc/front/models.py": models})
    src = "code://default/hc/accounts/views.py#email"
    assert got == {(src, PG + "api_channel#value"), (src, PG + "checks#owner_email")}


def test_a_model_instance_written_into_a_field_is_its_key(tmp_path: Path) -> None:
    """``Project(owner=user)`` stores the user's key, not the user's e-mail; a manager's own query
    (``Profile.objects.for_user(user)``) returns a stored profile, not its argument."""
    models = (
        "from django.db import models\n\n"
        "class Person(models.Model):\n    email = models.EmailField()\n\n"
        "class Project(models.Model):\n    owner = models.ForeignKey(Person)\n\n"
        "class Profile(models.Model):\n    tz = models.CharField()\n"
    )
    views = (
        "from app.models import Person, Project, Profile\n\n"
        "def make(email):\n"
        "    user = Person(email=email)\n"
        "    user.save()\n"
        "    project = Project(owner=user)\n"
        "    project.save()\n"
        "    profile = Profile.objects.for_user(user)\n"
        "    profile.save()\n"
    )
    got = flows(tmp_path, {"app/models.py": models, "app/views.py": views})
    assert got == {("code://default/app/views.py#email", PG + "app_person#email")}


def test_form_save_commit_false_then_fields_then_save(tmp_path: Path) -> None:
    """``review = form.save(commit=False); review.ip = ...; review.save()``: the form's fields and the
    ones set after; Flask-Mail's ``send_message(subject, recipients=[email])`` e-mails the recipients."""
    models = (
        "from django.db import models\n\nclass Review(models.Model):\n"
        "    text = models.TextField()\n    ip = models.GenericIPAddressField()\n"
    )
    forms = (
        "from django import forms\nfrom .models import Review\n\n"
        "class ReviewForm(forms.ModelForm):\n    class Meta:\n        model = Review\n        fields = ['text']\n"
    )
    views = (
        "from .forms import ReviewForm\n\n"
        "def review(request):\n"
        "    form = ReviewForm(request.POST)\n"
        "    review = form.save(commit=False)\n"
        "    review.ip = request.META['REMOTE_ADDR']\n"
        "    review.save()\n\n"
        "def notify(mail, email):\n"
        "    mail.send_message('Hello', recipients=[email])\n"
    )
    got = flows(tmp_path, {"shop/models.py": models, "shop/forms.py": forms, "shop/views.py": views})
    assert got == {
        (REQ + "text", PG + "shop_review#text"),
        (REQ + "REMOTE_ADDR", PG + "shop_review#ip"),
        ("code://default/shop/views.py#email", "service://email/smtp#email"),
    }


def test_a_field_computed_by_unmodelled_calls_is_not_the_data(tmp_path: Path) -> None:
    """``order.subtotal = price_for(email)``: a value computed from the e-mail by code nothing models is
    not the e-mail; ``order.note = email.strip()`` is."""
    models = "from django.db import models\n\nclass Order(models.Model):\n    customer_email = models.EmailField()\n"
    views = (
        "from shop.models import Order\n\n"
        "def place(email):\n"
        "    order = Order(customer_email=email)\n"
        "    order.subtotal = price_for(email)\n"
        "    order.note = email.strip()\n"
        "    order.save()\n"
    )
    got = flows(tmp_path, {"shop/models.py": models, "shop/views.py": views})
    src = "code://default/shop/views.py#email"
    assert got == {(src, PG + "shop_order#customer_email"), (src, PG + "shop_order#note")}


def test_mongodb_databases_and_print(tmp_path: Path) -> None:
    """pymongo/motor writes by collection (``$set`` opens to its fields; a filter is a read), encode's
    ``databases`` ``execute(query=..., values={...})``, and ``print`` as output a service logs."""
    views = (
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n"
        "@router.post('/signup')\n"
        "async def signup(email: str, phone: str, db=None, database=None):\n"
        "    await db.users.insert_one({'email': email, 'phone': phone})\n"
        "    await db['profiles'].update_one({'email': email}, {'$set': {'phone': phone}})\n"
        "    await database.execute(query='INSERT INTO people (email) VALUES (:email)', values={'email': email})\n"
        "    await database.fetch_one(query='SELECT * FROM people WHERE email = :email', values={'email': email})\n"
        "    print(f'signed up {email}')\n"
    )
    got = flows(tmp_path, {"app/views.py": views})
    mongo = "mongodb://default:27017/"
    assert got == {
        (REQ + "email", mongo + "users#email"),
        (REQ + "phone", mongo + "users#phone"),
        (REQ + "phone", mongo + "profiles#phone"),
        (REQ + "email", PG + "people#email"),
        (REQ + "email", "log://python/stdout#email"),
    }


def test_a_drf_model_view_set_saves_request_data_through_its_serializer(tmp_path: Path) -> None:
    models = "from django.db import models\n\nclass Contact(models.Model):\n    email = models.EmailField()\n"
    serializers = (
        "from rest_framework import serializers\nfrom .models import Contact\n\n"
        "class ContactSerializer(serializers.ModelSerializer):\n"
        "    class Meta:\n        model = Contact\n        fields = '__all__'\n"
    )
    views = (
        "from rest_framework import viewsets, generics\nfrom .models import Contact\n"
        "from .serializers import ContactSerializer\n\n"
        "class ContactViewSet(viewsets.ModelViewSet):\n"
        "    queryset = Contact.objects.all()\n    serializer_class = ContactSerializer\n\n"
        "class ContactList(generics.ListAPIView):\n    serializer_class = ContactSerializer\n"
    )
    got = flows(tmp_path, {"crm/models.py": models, "crm/serializers.py": serializers, "crm/views.py": views})
    assert got == {(REQ + "email", PG + "crm_contact#email")}
