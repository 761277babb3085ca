"""Shared set-up for the Flask test-client tests (tests/test_web_*.py).

The app is created after the `db` fixture opened the test database and points at the same URL (a SQLite
file in tmp_path, or $TEST_DATABASE_URL), so the web tests run on SQLite and on PostgreSQL alike. People
sign in through the real /login form; their password hashes are swapped for a cheap argon2 hash of the
same password so each login costs milliseconds instead of a memory-hard 100 ms."""
import html
import io
import re

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import engine
import web
from models import AuditRecord, User, database

from conftest import _url

PASSWORD = 'secret123'
_QUICK_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

ALL_USERS = ('leader1', 'chair1', 'secretary1', 'leader3', 'chair2', 'secretary2', 'staff', 'staff2', 'auditor',
             'other_leader', 'other_staff')


class BufferedClient(FlaskClient):
    """Reads every response to the end and closes it (file downloads and streamed CSV included)."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by the apps of all tests (each test has its own app; compiling every
    template anew for each would cost more than the test itself). Keyed on the template source."""

    def __init__(self):
        self.store = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedBytecodeCache()


def make_app(tmp_path, **config):
    settings = {'DATABASE_URL': _url(tmp_path), 'WTF_CSRF_ENABLED': False, 'TESTING': True,
                'SECRET_KEY': 'web-test-secret', **config}
    application = web.create_app(settings)
    application.test_client_class = BufferedClient
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    return application


@pytest.fixture
def app(db, tmp_path):
    application = make_app(tmp_path)
    yield application
    if not database.is_closed():
        database.close()


@pytest.fixture
def csrf_app(db, tmp_path):
    application = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield application
    if not database.is_closed():
        database.close()


def quick_passwords():
    User.update(password_hash=_QUICK_HASH).where(User.password_hash.is_null(False)).execute()


class Site:
    """The test organisation (conftest.World) behind a Flask app, with signed-in test clients."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        quick_passwords()

    def client(self, username=None):
        client = self.app.test_client()
        if username:
            response = login(client, username)
            assert response.status_code == 302, (username, response.status_code)
        return client


@pytest.fixture
def site(app, world):
    return Site(app, world)


def login(client, username, password=PASSWORD, **extra):
    return client.post('/login', data={'username': username, 'password': password, **extra})


def raw(response):
    """The response body as sent (HTML-escaped)."""
    return response.get_data(as_text=True)


def text(response):
    """The response body with HTML entities resolved, for looking for what a person reads."""
    return html.unescape(raw(response))


FLASH_RE = re.compile(r'<div class="flash (\w+)[^"]*" role="alert">(.*?)</div>', re.S)
ERROR_RE = re.compile(r'<section class="card narrow error-page">\s*<h1>(.*?) <small class="muted">(\d+)</small>'
                      r'</h1>\s*<p>(.*?)</p>', re.S)


def flashes(response, category=None):
    """The flash messages shown on a page, unescaped."""
    return [html.unescape(m) for c, m in FLASH_RE.findall(raw(response)) if category in (None, c)]


def error_message(response):
    """(title, status, message) of an error page, or None if the page is not one."""
    match = ERROR_RE.search(raw(response))
    return tuple(html.unescape(g) for g in match.groups()) if match else None


def follow(client, response):
    """Follow one redirect (a 303 after a form post) and return the page it leads to."""
    assert response.status_code in (302, 303), (response.status_code, text(response)[:800])
    return client.get(response.location)


def audit_count(**where):
    query = AuditRecord.select()
    for name, value in where.items():
        query = query.where(getattr(AuditRecord, name) == value)
    return query.count()


def last_audit(object_type, object_id):
    return (AuditRecord.select().where(AuditRecord.object_type == object_type, AuditRecord.object_id == object_id)
            .order_by(AuditRecord.seq.desc()).first())


def post_forms(response):
    """The action URLs of every POST form on a page."""
    tags = re.findall(r'<form method="post"[^>]*>', raw(response))
    return [html.unescape((re.search(r'action="([^"]*)"', tag) or [None, ''])[1]) for tag in tags]


def upload(client, url, fields=None, files=(), field='files'):
    """Post a multipart form with files [(name, bytes)]. Encoded in memory here: the test client would spool a
    large body to a temporary file it never closes."""
    values = MultiDict([(k, str(v)) for k, v in (fields or {}).items()])
    for name, content in files:
        values.add(field, FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f'multipart/form-data; boundary={boundary}')


def action_events(response):
    """The events offered as buttons (simple forms) or as expandable forms (with a reason) on a page."""
    return re.findall(r'<(?:button|summary)[^>]*\bdata-event="(\w+)"', raw(response))


def act(client, object_type, record, event, version=None, **fields):
    """Post the detail page's action form."""
    data = {'event': event, 'version': record.version if version is None else version, **fields}
    return client.post(f'/act/{object_type}/{record.id}', data=data)


def enrolled(world, team=None, leader=None):
    """A participation waiting for its enrolment review (no evidence yet), the campaign launched."""
    if world.campaign.state == 'draft':
        world.launch()
    return world.enrol(team, leader)


def new_application(world, team=None, leader=None, tier='learning_team', year=2026):
    return engine.create('application', leader or world.leader1,
                         {'team_id': (team or world.t1).id, 'campaign_id': world.campaign.id, 'year': year,
                          'tier': tier, 'statement': '申报材料'})
