"""The statements every transition runs, as SQL text written once.

peewee builds a query's SQL anew on every call, and for the few statements of the hot path — load the object
with its place, the actor's roles, the versioned update, the audit append — that costs more than the database
work itself (bench/throughput.py measured ≈ 90 µs of Python per query on SQLite against ≈ 20 µs of database).
So these few are written here as parameterised SQL (never a value in the text), and everything else in the
engine stays peewee. Values go in and come out through the model fields' own db_value / python_value, so
types are exactly what the rest of the code sees (tests/test_statements.py compares them with peewee's)."""
import functools
from collections import namedtuple

from models import AuditRecord, Campaign, database, is_sqlite


def _param():
    return database.param


@functools.cache
def _load_sql(model, param, lock):
    table = model._meta.table_name
    if model is Campaign:
        sql = (f'SELECT r.*, r.unit_id AS place_unit_id, NULL AS place_branch_id, NULL AS place_team_id '
               f'FROM {table} AS r WHERE r.id = {param}')
    else:
        sql = (f'SELECT r.*, b.unit_id AS place_unit_id, t.branch_id AS place_branch_id, t.id AS place_team_id '
               f'FROM {table} AS r JOIN team AS t ON t.id = r.team_id JOIN branch AS b ON b.id = t.branch_id '
               f'WHERE r.id = {param}')
    # Locks the object's row only, not the team and branch joined for its place.
    return sql + (' FOR UPDATE OF r' if lock else '')


def load_with_place(model, record_id, *, lock):
    """The record (or None) with its place in the organisation as attributes place_unit_id, place_branch_id,
    place_team_id; `lock`: hold its row until the transaction ends (PostgreSQL; on SQLite the IMMEDIATE
    transaction already holds the database's write lock)."""
    cursor = database.execute_sql(_load_sql(model, _param(), lock and not is_sqlite()), (record_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    fields, extras = _reader(model, tuple(d[0] for d in cursor.description))
    record = model(__no_default__=True)
    record.__data__ = {field.name: field.python_value(row[i]) for i, field in fields}
    record._dirty.clear()                       # as loaded: nothing to save
    for i, name in extras:
        setattr(record, name, row[i])
    return record


@functools.cache
def _reader(model, columns):
    """Which result column is which field of the model; the others (the place) become plain attributes."""
    by_column = model._meta.columns
    fields = [(i, by_column[name]) for i, name in enumerate(columns) if name in by_column]
    extras = [(i, name) for i, name in enumerate(columns) if name not in by_column]
    return fields, extras


# What permission rules read of a role assignment (engine.door.permissions.in_scope).
Assignment = namedtuple('Assignment', 'role unit_id branch_id team_id')


@functools.cache
def _roles_sql(param):
    # The actor's role assignments and, as rows without a role, the teams they are a member of: one query.
    return (f'SELECT role, unit_id, branch_id, team_id FROM role_assignment WHERE user_id = {param} '
            f'UNION ALL SELECT NULL, NULL, NULL, team_id FROM member WHERE user_id = {param}')


def roles_and_memberships(user_id):
    """(the actor's role assignments, the ids of the teams they are a member of)."""
    assignments, member_of = [], set()
    for row in database.execute_sql(_roles_sql(_param()), (user_id, user_id)).fetchall():
        if row[0] is None:
            member_of.add(row[3])
        else:
            assignments.append(Assignment(*row))
    return assignments, member_of


@functools.cache
def _update_sql(model, columns, param):
    sets = ', '.join(f'{column} = {param}' for column in columns)
    return f'UPDATE {model._meta.table_name} SET {sets} WHERE id = {param} AND version = {param}'


def update_versioned(model, record_id, expected_version, changes):
    """UPDATE … WHERE id = ? AND version = ?; returns the number of rows changed (0: someone else won)."""
    fields = [model._meta.fields[name] for name in changes]
    sql = _update_sql(model, tuple(f.column_name for f in fields), _param())
    values = [f.db_value(changes[f.name]) for f in fields]
    return database.execute_sql(sql, values + [record_id, expected_version]).rowcount


def audit_head_for_update():
    """(seq, hash) of the chain's head, its row locked (SQLite: the transaction's write lock holds it)."""
    p = _param()
    sql = f'SELECT seq, hash FROM audit_head WHERE id = {p}' + ('' if is_sqlite() else ' FOR UPDATE')
    return database.execute_sql(sql, (1,)).fetchone()


RECORD_COLUMNS = ('seq', 'object_type', 'object_id', 'event', 'from_state', 'to_state', 'actor_id', 'actor_role',
                  'occurred_at', 'payload', 'personal_digest', 'prev_hash', 'hash')


@functools.cache
def _append_sql(param, sqlite):
    record = (f'INSERT INTO audit_record ({", ".join(RECORD_COLUMNS)}) '
              f'VALUES ({", ".join([param] * len(RECORD_COLUMNS))})')
    personal = f'INSERT INTO audit_personal (seq, actor_name, reason) VALUES ({param}, {param}, {param})'
    head = f'UPDATE audit_head SET seq = {param}, hash = {param} WHERE id = {param}'
    if sqlite:
        return [record, personal, head]
    # PostgreSQL: one statement, one round trip to the server instead of three
    return [f'WITH new_record AS ({record}), new_personal AS ({personal}) {head}']


def append_audit(record, actor_name, reason):
    """Insert the audit record and its personal part, and move the head to it."""
    statements = _append_sql(_param(), is_sqlite())
    values = [[AuditRecord._meta.fields[c].db_value(record[c]) for c in RECORD_COLUMNS],
              [record['seq'], actor_name, reason], [record['seq'], record['hash'], 1]]
    if len(statements) == 1:
        values = [values[0] + values[1] + values[2]]
    for sql, params in zip(statements, values):
        database.execute_sql(sql, params)
