"""Command line: `flask --app web <command>`. Errors print one clear line and exit with status 1."""
import functools
import json
import sys

import click
import peewee
from flask.cli import with_appcontext

import engine
from engine import audit
from engine import scheduler
from engine import EngineError
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


def _kept_checkpoints(lines, path):
    """Checkpoints from --checkpoint options and a --checkpoints file, each checked (signature included)."""
    from engine import checkpoints
    key = audit.audit_key()
    try:
        for line in lines:
            checkpoints.parse(line, key)          # refuse a malformed or foreign line before any work
        kept = list(lines)
        if path:
            kept += checkpoints.read_file(path, key)
    except ValueError as err:
        fail(str(err))
    return kept


def _report(result, what='audit chain'):
    """Print every problem of a VerifyResult; exit 1 unless it is ok."""
    for _, text in result.problems:
        click.echo(text, err=True)
    for text in result.guard_problems:
        click.echo(text, err=True)
    if result.problems:
        fail(f'{what} BROKEN at record {result.first_bad_seq}')
    if result.guard_problems:
        fail(f'{what} intact, but the database guards are missing, disabled or altered: the audit tables '
             f'may have been written around the application')


CHECKPOINT_OPTIONS = [
    click.option('--checkpoint', 'checkpoint_lines', multiple=True,
                 help='A checkpoint kept outside the database ("SEQ:HASH" or a line from `checkpoint`); repeatable.'),
    click.option('--checkpoints', 'checkpoint_file', type=click.Path(dir_okay=False),
                 help='A file of kept checkpoints, one per line (see `checkpoint --append`).'),
]


def checkpoint_options(function):
    for option in reversed(CHECKPOINT_OPTIONS):
        function = option(function)
    return function


@click.command('verify')
@checkpoint_options
def verify_cmd(checkpoint_lines, checkpoint_file):
    """Recompute the audit chain; name the first bad record. Each kept checkpoint proves the records up to its
    seq (a rewrite before it, or records cut off the end, are named); the database guards are checked too."""
    _require_schema()
    kept = _kept_checkpoints(checkpoint_lines, checkpoint_file)
    total = AuditRecord.select().count()
    with click.progressbar(length=total, label='verifying', file=sys.stderr) as bar:
        result = audit.verify(checkpoints=kept, progress=bar.update)
    _report(result)
    against = f', {result.checkpoints} checkpoint(s) matched' if result.checkpoints else ''
    click.echo(f'audit chain intact: {result.checked} records{against}, head {result.head_seq}:{result.head_hash}')


@click.command('checkpoint')
@click.option('--append', 'append_to', type=click.Path(dir_okay=False),
              help='Also append the line to this file (keep it outside the database, on append-only storage).')
def checkpoint_cmd(append_to):
    """Print the chain head as a signed line "SEQ:HASH at=… sig=…" for auditors to keep outside the database.
    It proves the records up to SEQ; records appended later are proven by the next checkpoint."""
    from engine import checkpoints
    _require_schema()
    if append_to:
        try:
            click.echo(checkpoints.append_to(append_to, audit.audit_key()))
        except OSError as err:
            fail(f'cannot append to {append_to}: {err.strerror or err}')
        return
    click.echo(audit.signed_checkpoint())


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
    from engine import ImportFailed, import_file
    _require_schema()
    try:
        summary = import_file(path, default_unit=unit_code, progress=True)
    except ImportFailed as err:
        if err.file_error:             # one problem with the whole file: one line
            fail(f'nothing imported: {err.file_error}')
        for line in err.report_lines():
            click.echo(line, err=True)
        fail(f'nothing imported: {err.bad_rows} bad row(s), {len(err.errors)} error(s)')
    click.echo(summary)


@click.command('set-password')
@click.argument('username')
@click.password_option()
def set_password_cmd(username, password):
    """Set a user's password (their sessions end: they sign in again)."""
    from engine import set_password
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
    from engine import create_unit
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
    from engine import migrate_records
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
    from engine import erase_person
    _require_schema()
    count = run(erase_person, _user(username), reason)
    click.echo(f'erased personal data of {username} from {count} audit record(s)')


@click.command('grant-app-role')
@click.argument('role')
def grant_app_role_cmd(role):
    """PostgreSQL: let ROLE (an existing login role that does not own the tables) run the application with the
    least privileges: no TRUNCATE, no UPDATE/DELETE of audit records, no way to drop or disable their guards.
    Run it as the tables' owner after `upgrade-db`; then serve with DATABASE_URL naming ROLE."""
    from models.least_privilege import grant_to
    _require_schema()
    try:
        grant_to(role)
    except ValueError as err:
        fail(str(err))
    click.echo(f'granted the application\'s privileges to {role}; serve with DATABASE_URL=postgresql://{role}@…')


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
    from engine import backup
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
    click.echo(f'backup written to {target}: {counts}, checkpoint {audit.signed_checkpoint()}')


@click.command('restore')
@click.argument('source', type=click.Path(dir_okay=False))
@click.option('--force', is_flag=True, help='Overwrite a database that already has data.')
@checkpoint_options
@with_appcontext
def restore_cmd(source, force, checkpoint_lines, checkpoint_file):
    """Replace the database with the backup SOURCE — only after the backup, loaded into a scratch copy, verified
    (against the kept checkpoints when given): a backup that fails leaves the database untouched."""
    from flask import current_app
    from engine import restore
    url = current_app.config['DATABASE_URL']
    kept = _kept_checkpoints(checkpoint_lines, checkpoint_file)
    if schema_exists() and AuditRecord.select().exists() and not force:
        fail('the database already has data; add --force to replace it with the backup')
    if not kept:
        click.echo('note: no kept checkpoint given, so records cut off the end of the backup cannot be detected; '
                   'pass the checkpoint that `backup` printed (--checkpoint) or your checkpoint file', err=True)
    database.close()
    try:
        restore(url, source, replace=force, checkpoints=kept)
    except EngineError as err:
        fail(err.message)
    _report(audit.verify(checkpoints=kept), 'restored, but the audit chain')
    click.echo(f'restored from {source}: {_counts()}, audit chain intact, checkpoint {audit.checkpoint()}')


def _require_schema():
    if not schema_exists():
        fail('the database has no tables yet: run `flask --app web init-db` first')


COMMANDS = [init_db, upgrade_db, seed_demo, verify_cmd, checkpoint_cmd, create_cmd, fire_cmd, history_cmd, tick_cmd, import_org_cmd,
            set_password_cmd, create_unit_cmd, migrate_workflow_cmd, erase_person_cmd, backup_cmd, restore_cmd, grant_app_role_cmd]


def _database_errors_as_one_line(callback):
    """A database that is locked, missing or unreachable ends the command with one clear line, not a traceback."""
    if getattr(callback, 'one_line_errors', False):
        return callback                      # already wrapped (one create_app per test)

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        from engine import database_problem
        try:
            return callback(*args, **kwargs)
        except peewee.DatabaseError as err:
            fail(database_problem(err))
    wrapper.one_line_errors = True
    return wrapper


def init_app(app):
    for command in COMMANDS:
        command.callback = _database_errors_as_one_line(command.callback)
        app.cli.add_command(command)


__all__ = ['init_app', 'database']
