"""Command line: `flask --app web <command>`. Errors print one clear line and exit with status 1."""
import json
import sys

import click
from flask.cli import with_appcontext

import engine
from engine import audit, scheduler
from engine.errors import EngineError
from models import AuditRecord, User, database, schema_exists


def fail(message):
    raise click.ClickException(message)


def run(function, *args, **kwargs):
    """Call into the engine; a refusal becomes one line "code: message" and exit status 1."""
    try:
        return function(*args, **kwargs)
    except EngineError as err:
        fail(f'{err.code}: {err.message}')


def parse_json(text, option):
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as err:
        fail(f'{option} is not valid JSON: {err}')


def _user(username):
    user = User.get_or_none(User.username == username)
    if user is None:
        fail(f'no such user: {username!r}')
    return user


@click.command('init-db')
def init_db():
    """Create the tables, or bring an older database's schema up to date (safe to run again)."""
    _upgrade()


@click.command('upgrade-db')
def upgrade_db():
    """Bring the schema of a database made by any earlier release up to date."""
    _upgrade()


def _upgrade():
    from models.migrations import current_version, upgrade
    try:
        applied = upgrade()
    except RuntimeError as err:
        fail(str(err))
    for version, description in applied:
        click.echo(f'applied schema version {version}: {description}')
    click.echo(f'database ready (schema version {current_version()})')


@click.command('seed-demo')
@click.option('--if-empty', is_flag=True, help='Do nothing when the database already has data.')
def seed_demo(if_empty):
    """Load the demo: 货运处, 4 branches, ~40 teams, every role, a campaign in consolidation."""
    from .demo import seed
    _upgrade()
    if if_empty and AuditRecord.select().exists():
        click.echo('demo data already present')
        return
    summary = seed(progress=True)
    click.echo(summary)


@click.command('verify')
@click.option('--checkpoint', help='A checkpoint "SEQ:HASH" kept outside the database (detects truncation).')
def verify_cmd(checkpoint):
    """Recompute the audit chain; name the first bad record."""
    _require_schema()
    if checkpoint:
        try:
            audit.parse_checkpoint(checkpoint)
        except ValueError as err:
            fail(str(err))
    total = AuditRecord.select().count()
    with click.progressbar(length=total, label='verifying', file=sys.stderr) as bar:
        result = audit.verify(checkpoint=checkpoint, progress=bar.update)
    if result.ok:
        click.echo(f'audit chain intact: {result.checked} records, head {result.head_seq}:{result.head_hash}')
        return
    for _, text in result.problems:
        click.echo(text, err=True)
    fail(f'audit chain BROKEN at record {result.first_bad_seq}')


@click.command('checkpoint')
def checkpoint_cmd():
    """Print the chain head "SEQ:HASH" for auditors to keep outside the database."""
    _require_schema()
    click.echo(audit.checkpoint())


@click.command('fire')
@click.argument('object_type')
@click.argument('object_id', type=int)
@click.argument('event')
@click.option('--user', 'username', required=True, help='Who acts (username).')
@click.option('--reason', help='Reason or comment.')
@click.option('--payload', help='JSON object with the event\'s data.')
@click.option('--override', is_flag=True, help='Pass an overridable guard (needs --reason).')
def fire_cmd(object_type, object_id, event, username, reason, payload, override):
    """Fire EVENT on OBJECT_TYPE #OBJECT_ID (campaign, participation, application, innovation)."""
    _require_schema()
    data = parse_json(payload, '--payload')
    record = run(engine.load_object, object_type, object_id)
    record = run(engine.fire, record, event, _user(username), reason=reason, payload=data, override=override)
    click.echo(f'{object_type} #{object_id} is now {record.state} (version {record.version})')


@click.command('create')
@click.argument('object_type')
@click.option('--user', 'username', required=True, help='Who acts (username).')
@click.option('--data', required=True, help='JSON object with the new record\'s fields.')
def create_cmd(object_type, username, data):
    """Create a campaign, participation (enrolment), application or innovation result."""
    _require_schema()
    record = run(engine.create, object_type, _user(username), parse_json(data, '--data'))
    click.echo(f'{object_type} #{record.id} created ({record.state})')


@click.command('history')
@click.argument('object_type')
@click.argument('object_id', type=int)
def history_cmd(object_type, object_id):
    """Print an object's audit history."""
    _require_schema()
    for r in audit.history(object_type, object_id):
        click.echo(f'{r.seq:>6} {r.occurred_at:%Y-%m-%d %H:%M} {r.event:<18} {r.from_state or "-"} → '
                   f'{r.to_state or "-"} {r.actor_name or "-"}({r.actor_role or "-"}) {r.reason or ""}')


@click.command('tick')
def tick_cmd():
    """Run due time-based steps (public notices ending). Run it every minute from cron."""
    _require_schema()
    click.echo(scheduler.tick())


@click.command('import-org')
@click.argument('path', type=click.Path(dir_okay=False))
@click.option('--unit', 'unit_code', help='Unit code when the file has no unit column.')
def import_org_cmd(path, unit_code):
    """Import branches, teams, members and users from an .xlsx or .csv file (all rows or none)."""
    from engine.org_import import ImportFailed, import_file
    _require_schema()
    try:
        summary = import_file(path, default_unit=unit_code, progress=True)
    except ImportFailed as err:
        for line in err.report_lines():
            click.echo(line, err=True)
        fail(f'nothing imported: {err.bad_rows} bad row(s), {len(err.errors)} error(s)')
    click.echo(summary)


@click.command('set-password')
@click.argument('username')
@click.password_option()
def set_password_cmd(username, password):
    """Set a user's password (their sessions end: they sign in again)."""
    from engine.org import set_password
    _require_schema()
    if len(password) < 8:
        fail('password must have at least 8 characters')
    set_password(_user(username), password)
    click.echo(f'password set for {username}; their sessions have ended')


@click.command('create-unit')
@click.argument('code')
@click.argument('name')
def create_unit_cmd(code, name):
    """Create a unit (处), e.g. `create-unit HY 货运处`, before importing its organisation."""
    from engine.org import create_unit
    _require_schema()
    unit = run(create_unit, code, name)
    click.echo(f'unit #{unit.id} {unit.name} ({unit.code}) created')


@click.command('migrate-workflow')
@click.argument('object_type')
@click.argument('to_version', type=int)
@click.option('--map', 'mapping', multiple=True, help='Rename a state: OLD=NEW (repeatable).')
@click.option('--reason', required=True, help='Why the records move (kept in the audit history).')
def migrate_workflow_cmd(object_type, to_version, mapping, reason):
    """Move running records to workflow definition TO_VERSION (explicit and audited)."""
    from engine.migration import migrate_records
    _require_schema()
    state_map = {}
    for item in mapping:
        if item.count('=') != 1 or not all(item.split('=')):
            fail(f'--map expects OLD=NEW, got {item!r}')
        old, new = item.split('=')
        state_map[old] = new
    moved = run(migrate_records, object_type, to_version, state_map=state_map, reason=reason)
    click.echo(f'{moved} {object_type} record(s) moved to version {to_version}')


@click.command('erase-person')
@click.argument('username')
@click.option('--reason', required=True, help='The erasure request reference.')
def erase_person_cmd(username, reason):
    """Erase a person's name from accounts and the audit history (the chain still verifies)."""
    from engine.privacy import erase_person
    _require_schema()
    count = run(erase_person, _user(username), reason)
    click.echo(f'erased personal data of {username} from {count} audit record(s)')


def _counts():
    from models import Application, InnovationResult, Participation, Team
    return {'teams': Team.select().count(), 'participations': Participation.select().count(),
            'applications': Application.select().count(), 'innovations': InnovationResult.select().count(),
            'audit_records': AuditRecord.select().count()}


@click.command('backup')
@click.argument('target', type=click.Path(dir_okay=False))
@with_appcontext
def backup_cmd(target):
    """Write a consistent backup of the running database to TARGET (SQLite file or pg_dump archive)."""
    from flask import current_app
    from engine.backup import backup
    _require_schema()
    url = current_app.config['DATABASE_URL']
    with click.progressbar(length=1, label='backing up', file=sys.stderr) as bar:
        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)
        try:
            backup(url, target, progress=progress)
        except EngineError as err:
            fail(err.message)
    counts = _counts()
    click.echo(f'backup written to {target}: {counts}, checkpoint {audit.checkpoint()}')


@click.command('restore')
@click.argument('source', type=click.Path(dir_okay=False))
@click.option('--force', is_flag=True, help='Overwrite a database that already has data.')
@with_appcontext
def restore_cmd(source, force):
    """Replace the database with the backup SOURCE, then verify the audit chain and print the counts."""
    from flask import current_app
    from engine.backup import restore
    from models import open_database
    url = current_app.config['DATABASE_URL']
    if schema_exists() and AuditRecord.select().exists() and not force:
        fail('the database already has data; add --force to replace it with the backup')
    database.close()
    try:
        restore(url, source, replace=force)
    except EngineError as err:
        fail(err.message)
    open_database(url)
    result = audit.verify()
    if not result.ok:
        fail(f'restored, but the audit chain is BROKEN at record {result.first_bad_seq}')
    click.echo(f'restored from {source}: {_counts()}, audit chain intact, checkpoint {audit.checkpoint()}')


def _require_schema():
    if not schema_exists():
        fail('the database has no tables yet: run `flask --app web init-db` first')


COMMANDS = [init_db, upgrade_db, seed_demo, verify_cmd, checkpoint_cmd, create_cmd, fire_cmd, history_cmd, tick_cmd, import_org_cmd,
            set_password_cmd, create_unit_cmd, migrate_workflow_cmd, erase_person_cmd, backup_cmd, restore_cmd]


def init_app(app):
    for command in COMMANDS:
        app.cli.add_command(command)


__all__ = ['init_app', 'database']
