"""Every released schema upgrades to the current one: a database made from the frozen DDL of version 1
ends with exactly the tables, columns and indexes of a new database, and works."""
import datetime
import os

import pytest

from engine.chain import audit
from models import ALL_MODELS, database, is_sqlite, open_database
from models.audit import AuditHead, SchemaInfo
from models.migrations import MIGRATIONS, current_version, latest_version, upgrade
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
    from models import audit_guards
    assert audit_guards.problems() == []          # the older releases' guards are replaced by the current set
    from cli.demo import seed
    seed()
    assert audit.verify().ok


SCALE_INDEXES = [('participation', 'participation_team_id_state'), ('application', 'application_team_id_state'),
                 ('innovation_result', 'innovation_result_team_id_state'),
                 ('audit_record', 'audit_record_object_type_seq'), ('audit_record', 'audit_record_event_seq'),
                 ('audit_record', 'audit_record_actor_id_seq')]
REPLACED = ('audit_record_event', 'audit_record_actor_id')


def index_names(table):
    return {i.name for i in database.get_indexes(table)}


@pytest.mark.parametrize('version', [v for v in RELEASES if v < 3])
def test_version_3_adds_the_scale_indexes(empty_db, version):
    """Versions 1 and 2 upgrade to 3 through its migration: the composite indexes for inboxes and the audit log
    appear, the single-column audit indexes they replace go; running the migration again changes nothing."""
    load_release(version)
    assert not {name for _, name in SCALE_INDEXES} & (index_names('audit_record') | index_names('participation'))
    assert set(REPLACED) <= index_names('audit_record')
    applied = upgrade()
    assert 3 in [v for v, _ in applied] and current_version() == latest_version()
    with database.atomic():
        MIGRATIONS[3][1](None)
    for table, name in SCALE_INDEXES:
        assert name in index_names(table), name
    assert not set(REPLACED) & index_names('audit_record')


def test_upgrade_creates_a_missing_schema_and_is_idempotent(empty_db):
    assert upgrade() == [] and current_version() == latest_version()
    assert upgrade() == []


def test_a_newer_database_is_refused(empty_db):
    upgrade()
    SchemaInfo.create(version=latest_version() + 1, applied_at='2099-01-01')
    with pytest.raises(RuntimeError, match='newer than this program'):
        upgrade()
