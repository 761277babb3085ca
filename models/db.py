"""The database handle: one proxy bound at start-up to SQLite (default) or PostgreSQL by URL."""
import json
import os

from peewee import DatabaseProxy, Model, TextField, SqliteDatabase
from playhouse.db_url import connect as connect_url

database = DatabaseProxy()

DEFAULT_URL = 'sqlite:///instance/chuangzheng.db'
# synchronous=full: a decision the app has confirmed survives a power cut too (with 'normal', WAL keeps the file
# intact but may lose the last commits). It costs one fsync per commit, like PostgreSQL's default.
SQLITE_PRAGMAS = {'journal_mode': 'wal', 'busy_timeout': 10000, 'foreign_keys': 1, 'synchronous': 'full'}


def database_url():
    return os.environ.get('DATABASE_URL', DEFAULT_URL)


def open_database(url=None):
    """Connect the proxy to the database named by `url` (or $DATABASE_URL) and return it."""
    url = url or database_url()
    if url.startswith('sqlite'):
        path = url.split(':///', 1)[-1]
        if path and path != ':memory:':
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # IMMEDIATE: writers take the lock at BEGIN, so read-then-write transactions never deadlock.
        db = connect_url(url, pragmas=SQLITE_PRAGMAS, lock_type='IMMEDIATE', check_same_thread=False)
    else:
        # A pool per process: each request takes a connection and gives it back when it closes it.
        scheme, rest = url.split('://', 1)
        pooled = scheme if scheme.endswith('+pool') else scheme + '+pool'
        db = connect_url(f'{pooled}://{rest}', max_connections=int(os.environ.get('CHUANGZHENG_DB_POOL', '10')),
                         stale_timeout=300, timeout=10)
    database.initialize(db)
    return db


def is_sqlite():
    return isinstance(database.obj, SqliteDatabase)


class JSONField(TextField):
    """JSON stored as text: portable across SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
