"""Every released schema upgrades to the current one: a database made from the frozen DDL of version 1
ends with exactly the tables, columns and indexes of a new database, and works."""
import datetime
import os

import pytest

from engine import audit
from models import ALL_MODELS, database, is_sqlite, open_database
from models.audit import AuditHead, SchemaInfo
from models.migrations import current_version, latest_version, upgrade
from models.schema import GENESIS_HASH

from conftest import _url

DATA = os.path.join(os.path.dirname(__file__), 'data')
RELEASES = sorted(int(name.split('_v')[1].split('.')[0]) for name in os.listdir(DATA) if name.startswith('schema_v'))


@pytest.fixture
def empty_db(tmp_path):
    db = open_database(_url(tmp_path))
    if not is_sqlite():
        db.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        db.execute_sql('CREATE SCHEMA public')
    yield db
    db.close()


def load_release(version):
    dialect = 'sqlite' if is_sqlite() else 'postgres'
    with open(os.path.join(DATA, f'schema_v{version}.{dialect}.sql'), encoding='utf-8') as f:
        text = f.read()
    with database.atomic():
        for statement in text.split(';\n'):
            statement = '\n'.join(line for line in statement.splitlines() if not line.startswith('--')).strip()
            if statement:
                database.execute_sql(statement)
        AuditHead.create(id=1, seq=0, hash=GENESIS_HASH)
        SchemaInfo.create(version=version, applied_at=datetime.datetime(2026, 11, 26).isoformat())


def shape():
    """What the database holds: per table, its columns and index names."""
    return {model._meta.table_name: ({c.name for c in database.get_columns(model._meta.table_name)},
                                     {i.name for i in database.get_indexes(model._meta.table_name)})
            for model in ALL_MODELS}


def expected_shape():
    return {model._meta.table_name: ({f.column_name for f in model._meta.sorted_fields},
                                     {index.query()[0].split('"')[1] for index in model._schema._create_indexes()})
            for model in ALL_MODELS}


@pytest.mark.parametrize('version', RELEASES)
def test_release_upgrades_to_the_current_schema(empty_db, version):
    load_release(version)
    assert current_version() == version
    upgrade()
    assert current_version() == latest_version()
    actual, expected = shape(), expected_shape()
    for table, (columns, indexes) in expected.items():
        assert actual[table][0] == columns, table
        assert indexes <= actual[table][1], table
    from web.demo import seed
    seed()
    assert audit.verify().ok


def test_upgrade_creates_a_missing_schema_and_is_idempotent(empty_db):
    assert upgrade() == [] and current_version() == latest_version()
    assert upgrade() == []


def test_a_newer_database_is_refused(empty_db):
    upgrade()
    SchemaInfo.create(version=latest_version() + 1, applied_at='2099-01-01')
    with pytest.raises(RuntimeError, match='newer than this program'):
        upgrade()
