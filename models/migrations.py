"""Schema versions. A new database is created at the latest version; `flask --app web upgrade-db` brings a
database of any earlier released version up to date, one version at a time, each in its own transaction.

To change the schema: add the new field or model, then register a migration for the next version number that
alters existing tables (new tables and new indexes are created by create_schema, which upgrade runs first),
and freeze the new release's DDL with `python -m models.freeze` so tests keep upgrading from every release."""
import datetime

from peewee import fn
from playhouse.migrate import SchemaMigrator

from . import audit_guards
from .audit import SchemaInfo
from .db import database
from .schema import SCHEMA_VERSION, create_schema, schema_exists

# version → (description, function(migrator)). Version 1 is the first released schema.
MIGRATIONS = {}


def migration(version, description):
    def register(function):
        MIGRATIONS[version] = (description, function)
        return function
    return register


@migration(2, 'login_attempt: sign-in attempts for login throttling')
def _v2_login_attempts(migrator):
    """Nothing to alter: version 2 only adds the table login_attempt and its indexes, which create_schema
    (run by upgrade before any migration) has already created. Registered so the version is recorded."""


@migration(3, 'indexes for inboxes and the audit log at scale: (team_id, state) on participation, application, '
              'innovation_result; (object_type, seq), (event, seq), (actor_id, seq) on audit_record')
def _v3_scale_indexes(migrator):
    """Create the indexes (IF NOT EXISTS: running it again changes nothing; create_schema, run before, has
    normally made them already) and drop the single-column audit indexes the composite ones replace.
    An inbox then looks up its own teams' records instead of every record of the waiting states, and a
    filtered page of the audit log walks an index instead of sorting every matching record."""
    from .audit import AuditRecord
    from .workflow import Application, InnovationResult, Participation
    for model in (Participation, Application, InnovationResult, AuditRecord):
        model._schema.create_indexes(safe=True)
    for name in ('audit_record_event', 'audit_record_actor_id'):
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


@migration(4, 'user_session: several sessions per person, each ended on the server; login_known_address: '
              'login throttling per username and address; user.session_nonce (one session per person) dropped')
def _v4_sessions(migrator):
    """The two new tables come from create_schema. The one-session nonce goes: sessions of the release before
    end with the upgrade (their cookies name no user_session row), and people sign in again."""
    from playhouse.migrate import migrate
    if 'session_nonce' in {c.name for c in database.get_columns('user')}:
        migrate(migrator.drop_column('user', 'session_nonce'))


def latest_version():
    return max([SCHEMA_VERSION, *MIGRATIONS])


def current_version():
    if not SchemaInfo.table_exists():
        return 0
    return SchemaInfo.select(fn.MAX(SchemaInfo.version)).scalar() or 0


def upgrade():
    """Create a missing schema, or bring an older one up to date. Returns the versions applied."""
    if not schema_exists():
        create_schema()
        return []
    version = current_version()
    if version == latest_version() and not audit_guards.problems():
        return []                    # nothing to do (and nothing a least-privilege role could not do)
    if version > latest_version():
        raise RuntimeError(f'the database has schema version {version}, newer than this program '
                           f'({latest_version()}): upgrade the program instead')
    create_schema()                  # tables and indexes added since `version` (all idempotent)
    applied = []
    for target in sorted(v for v in MIGRATIONS if v > version):
        description, function = MIGRATIONS[target]
        with database.atomic():
            function(SchemaMigrator.from_database(database.obj))
            SchemaInfo.create(version=target, applied_at=_now())
        applied.append((target, description))
    return applied


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()
