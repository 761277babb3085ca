"""The database's own guards around the audit history: triggers that refuse everything the application never
does to the three audit tables, and a check that they are all present, enabled and unchanged.

What the application does, and so what stays allowed:
- audit_record: INSERT of the record right after the head (seq = head + 1, prev_hash = head hash). Nothing else.
- audit_personal: INSERT of that record's personal part (never pre-erased), and the one erasure: a row not yet
  erased gets its name and reason emptied and erased_at set. No other UPDATE, no DELETE.
- audit_head: its single row is created with the empty chain, then moves forward one record at a time.
On PostgreSQL TRUNCATE is refused too (row triggers do not see it). An attacker who owns the tables can still
drop the triggers: `verify` reports missing, disabled or altered guards (see `problems`), and the application
should connect as a role that does not own the audit tables (README, "Least privilege on PostgreSQL")."""
from .db import database, is_sqlite

_REFUSE = "SELECT RAISE(ABORT, 'audit records are append-only')"
_HEAD_SEQ = '(SELECT seq FROM audit_head WHERE id = 1)'
_HEAD_HASH = '(SELECT hash FROM audit_head WHERE id = 1)'

# name → the exact text SQLite keeps in sqlite_master (so an altered body is noticed too)
SQLITE_GUARDS = {
    'audit_record_no_update': f'CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record BEGIN {_REFUSE}; END',
    'audit_record_no_delete': f'CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record BEGIN {_REFUSE}; END',
    'audit_record_append_at_head': (
        'CREATE TRIGGER audit_record_append_at_head BEFORE INSERT ON audit_record '
        f'WHEN NEW.seq IS NOT {_HEAD_SEQ} + 1 OR NEW.prev_hash IS NOT {_HEAD_HASH} BEGIN {_REFUSE}; END'),
    'audit_personal_append_at_head': (
        'CREATE TRIGGER audit_personal_append_at_head BEFORE INSERT ON audit_personal '
        f'WHEN NEW.seq IS NOT {_HEAD_SEQ} + 1 OR NEW.erased_at IS NOT NULL BEGIN {_REFUSE}; END'),
    'audit_personal_only_erasure': (
        'CREATE TRIGGER audit_personal_only_erasure BEFORE UPDATE ON audit_personal '
        'WHEN NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.actor_name IS NULL '
        f'AND NEW.reason IS NULL AND NEW.seq = OLD.seq) BEGIN {_REFUSE}; END'),
    'audit_personal_no_delete': f'CREATE TRIGGER audit_personal_no_delete BEFORE DELETE ON audit_personal BEGIN {_REFUSE}; END',
    'audit_head_forward_only': (
        'CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head '
        f'WHEN NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq + 1 BEGIN {_REFUSE}; END'),
    'audit_head_no_delete': f'CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN {_REFUSE}; END',
    'audit_head_single_row': (
        'CREATE TRIGGER audit_head_single_row BEFORE INSERT ON audit_head '
        f'WHEN (SELECT COUNT(*) FROM audit_head) > 0 OR NEW.seq <> 0 BEGIN {_REFUSE}; END'),
}

_PG_RAISE = "RAISE EXCEPTION 'audit records are append-only'"
# function name → body; each refuses unless the row change is one the application makes. The application
# appends on PostgreSQL with one statement (engine.door.statements: record and personal part as WITH parts of the
# head's UPDATE), whose parts may see the head before or after it moves: the insert guards accept both.
POSTGRES_FUNCTIONS = {
    'audit_append_only': f'BEGIN {_PG_RAISE}; END',
    'audit_record_insert_guard': (
        'DECLARE head RECORD; BEGIN SELECT seq, hash INTO head FROM audit_head WHERE id = 1; '
        'IF head IS NULL OR NOT ((NEW.seq = head.seq + 1 AND NEW.prev_hash = head.hash) '
        'OR (NEW.seq = head.seq AND NEW.hash = head.hash)) '
        f'THEN {_PG_RAISE}; END IF; RETURN NEW; END'),
    'audit_personal_insert_guard': (
        'DECLARE head_seq BIGINT; BEGIN SELECT seq INTO head_seq FROM audit_head WHERE id = 1; '
        'IF head_seq IS NULL OR NEW.seq NOT IN (head_seq, head_seq + 1) '
        f'OR NEW.erased_at IS NOT NULL THEN {_PG_RAISE}; END IF; RETURN NEW; END'),
    'audit_personal_update_guard': (
        'BEGIN IF NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.actor_name IS NULL '
        f'AND NEW.reason IS NULL AND NEW.seq = OLD.seq) THEN {_PG_RAISE}; END IF; RETURN NEW; END'),
    'audit_head_update_guard': (
        'BEGIN IF NEW.id IS DISTINCT FROM OLD.id OR NEW.seq IS DISTINCT FROM OLD.seq + 1 '
        f'THEN {_PG_RAISE}; END IF; RETURN NEW; END'),
    'audit_head_insert_guard': (
        'BEGIN IF EXISTS (SELECT 1 FROM audit_head) OR NEW.seq <> 0 '
        f'THEN {_PG_RAISE}; END IF; RETURN NEW; END'),
}

# trigger name → (table, what pg_get_triggerdef answers for it once created)
POSTGRES_GUARDS = {
    name: (table, f'CREATE TRIGGER {name} BEFORE {events} ON public.{table} FOR EACH {level} '
                  f'EXECUTE FUNCTION {function}()')
    for name, table, events, level, function in [
        ('audit_record_append_only', 'audit_record', 'DELETE OR UPDATE', 'ROW', 'audit_append_only'),
        ('audit_record_insert_guard', 'audit_record', 'INSERT', 'ROW', 'audit_record_insert_guard'),
        ('audit_record_no_truncate', 'audit_record', 'TRUNCATE', 'STATEMENT', 'audit_append_only'),
        ('audit_personal_insert_guard', 'audit_personal', 'INSERT', 'ROW', 'audit_personal_insert_guard'),
        ('audit_personal_update_guard', 'audit_personal', 'UPDATE', 'ROW', 'audit_personal_update_guard'),
        ('audit_personal_no_delete', 'audit_personal', 'DELETE', 'ROW', 'audit_append_only'),
        ('audit_personal_no_truncate', 'audit_personal', 'TRUNCATE', 'STATEMENT', 'audit_append_only'),
        ('audit_head_update_guard', 'audit_head', 'UPDATE', 'ROW', 'audit_head_update_guard'),
        ('audit_head_insert_guard', 'audit_head', 'INSERT', 'ROW', 'audit_head_insert_guard'),
        ('audit_head_no_delete', 'audit_head', 'DELETE', 'ROW', 'audit_append_only'),
        ('audit_head_no_truncate', 'audit_head', 'TRUNCATE', 'STATEMENT', 'audit_append_only'),
    ]
}


def _postgres_statements():
    statements = [f'CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$'
                  for name, body in POSTGRES_FUNCTIONS.items()]
    for name, (table, definition) in POSTGRES_GUARDS.items():
        statements += [f'DROP TRIGGER IF EXISTS {name} ON {table}', definition.replace('public.', '', 1)]
    return statements


def guard_statements():
    """The DDL that (re)creates every guard on the bound database (idempotent)."""
    if is_sqlite():
        return [f'DROP TRIGGER IF EXISTS {name}' for name in SQLITE_GUARDS] + list(SQLITE_GUARDS.values())
    return _postgres_statements()


def install_guards():
    for sql in guard_statements():
        database.execute_sql(sql)


def drop_guards():
    """Remove every guard: only for bulk loads that write the audit tables themselves (bench/scale_build.py)
    and for tests that play an attacker. `install_guards` puts them back."""
    if is_sqlite():
        for name in SQLITE_GUARDS:
            database.execute_sql(f'DROP TRIGGER IF EXISTS {name}')
    else:
        for name, (table, _) in POSTGRES_GUARDS.items():
            database.execute_sql(f'DROP TRIGGER IF EXISTS {name} ON {table}')


def problems():
    """What is wrong with the guards, as sentences ([] when every one is present, enabled and unchanged)."""
    return _sqlite_problems() if is_sqlite() else _postgres_problems()


def _sqlite_problems():
    found = dict(database.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    out = []
    for name, expected in SQLITE_GUARDS.items():
        if name not in found:
            out.append(f'database guard {name} is missing')
        elif ' '.join(found[name].split()) != expected:
            out.append(f'database guard {name} was altered')
    return out


def _postgres_problems():
    rows = database.execute_sql(
        "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), p.proname, p.prosrc FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND t.tgrelid IN "
        "('audit_record'::regclass, 'audit_personal'::regclass, 'audit_head'::regclass)").fetchall()
    found = {name: (enabled, definition, function, source) for name, enabled, definition, function, source in rows}
    out = []
    for name, (_, expected) in POSTGRES_GUARDS.items():
        if name not in found:
            out.append(f'database guard {name} is missing')
            continue
        enabled, definition, function, source = found[name]
        if enabled not in ('O', 'A'):       # 'D' disabled; 'R' fires only for replication sessions
            out.append(f'database guard {name} is disabled')
        elif definition != expected or source.strip() != POSTGRES_FUNCTIONS.get(function):
            out.append(f'database guard {name} was altered')
    return out


def alter_one_guard():
    """What an attacker who cannot drop a guard unnoticed might try: keep its name, make it allow everything. For
    tests and bench/tamper_table.py, which show that verify reports it as altered."""
    if is_sqlite():
        database.execute_sql('DROP TRIGGER audit_record_no_update')
        database.execute_sql('CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record BEGIN SELECT 1; END')
    else:
        database.execute_sql("CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql "
                             "AS $$ BEGIN RETURN NEW; END $$")
