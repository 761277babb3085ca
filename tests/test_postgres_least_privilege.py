"""PostgreSQL, least privilege: the application connected as a role that does not own the audit tables runs as
usual, while that role cannot drop, disable or replace the guards, TRUNCATE, or rewrite audit records."""
import uuid
from urllib.parse import urlparse, urlunparse

import pytest
from peewee import DatabaseError

import engine
from engine.chain import audit
from models import Campaign, database, is_sqlite, open_database
from models.least_privilege import grant_statements

from conftest import World, _url

pytestmark = pytest.mark.skipif('__import__("models").is_sqlite()', reason='PostgreSQL roles')


@pytest.fixture
def app_role(db, tmp_path):
    """A world made by the owner, a new login role granted the application's privileges, and the proxy bound to
    the database as that role."""
    world = World()
    world.launch()
    role = f'cz_app_{uuid.uuid4().hex[:8]}'
    owner_url = _url(tmp_path)
    database.execute_sql(f'CREATE ROLE "{role}" LOGIN')
    from models.least_privilege import grant_to
    grant_to(role)
    database.close()
    parsed = urlparse(owner_url)
    open_database(urlunparse(parsed._replace(netloc=f'{role}@{parsed.hostname}:{parsed.port}')))
    yield world
    database.close()
    open_database(owner_url)
    database.execute_sql(f'DROP OWNED BY "{role}"')
    database.execute_sql(f'DROP ROLE "{role}"')


def test_the_application_runs_as_the_least_privilege_role(app_role):
    world = app_role
    campaign = engine.fire(Campaign.get_by_id(world.campaign.id), 'advance', world.staff, reason='按会议决定',
                           override=True)
    assert campaign.state == 'consolidation'
    assert audit.verify().ok


@pytest.mark.parametrize('sql', [
    'DROP TRIGGER audit_record_append_only ON audit_record',
    'ALTER TABLE audit_record DISABLE TRIGGER ALL',
    'ALTER TABLE audit_personal DISABLE TRIGGER audit_personal_update_guard',
    'CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$',
    'TRUNCATE audit_record, audit_personal, audit_head',
    "UPDATE audit_record SET event = 'x' WHERE seq = 1",
    'DELETE FROM audit_record WHERE seq = 1',
    'DROP TABLE audit_record CASCADE',
])
def test_the_role_cannot_touch_the_guards_or_the_records(app_role, sql):
    with pytest.raises(DatabaseError):
        with database.atomic():
            database.execute_sql(sql)
    assert audit.verify().ok


def test_the_grants_leave_truncate_and_audit_updates_out():
    statements = grant_statements('app')
    audit_grants = [s for s in statements if '"audit_record"' in s]
    assert audit_grants == ['GRANT SELECT, INSERT ON "audit_record" TO "app"']
    assert not any('TRUNCATE' in s or 'ALL PRIVILEGES' in s for s in statements)
