"""Writing the provincial-size database for bench/scale.py with bulk inserts, not through the engine: SQLite by
executemany inside one transaction with the audit table's secondary indexes built afterwards; PostgreSQL by COPY
from a built SQLite file (same rows, same chain)."""
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import click

from models import ALL_MODELS, audit_guards, create_schema, database, open_database

from scale_data import AuditCopy, Records, read_demo
from scale_org import Organisation

ROOT = os.path.join(os.path.dirname(__file__), '..')
ORG_COLUMNS = {
    'unit': ('id', 'code', 'name', 'settings'),
    'branch': ('id', 'unit_id', 'name'),
    'team': ('id', 'branch_id', 'name'),
    'user': ('id', 'username', 'display_name', 'password_hash', 'active', 'is_system', 'created_at'),
    'member': ('id', 'team_id', 'name', 'employee_no', 'user_id'),
    'role_assignment': ('id', 'user_id', 'role', 'unit_id', 'branch_id', 'team_id'),
}
AUDIT_TABLES = ('audit_record', 'audit_personal')
AUDIT_COLUMNS = {
    'audit_record': ('seq', 'object_type', 'object_id', 'event', 'from_state', 'to_state', 'actor_id', 'actor_role',
                     'occurred_at', 'payload', 'personal_digest', 'prev_hash', 'hash'),
    'audit_personal': ('seq', 'actor_name', 'reason', 'erased_at'),
}
BATCH = 20000


def seed_demo(folder):
    """The demo database (seeded through the engine) that every synthetic team copies."""
    path = os.path.join(folder, 'demo-template.db')
    if not os.path.exists(path):
        env = dict(os.environ, DATABASE_URL=f'sqlite:///{path}')
        subprocess.run([sys.executable, '-m', 'flask', '--app', 'web', 'seed-demo'], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    return path


def _insert(conn, table, columns, rows):
    marks = ', '.join('?' * len(columns))
    names = ', '.join(f'"{c}"' for c in columns)
    conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def build_sqlite(path, plan, target_records, key, folder, log=print):
    """Create the database file at `path`; returns a summary dict."""
    started = time.monotonic()
    demo = read_demo(seed_demo(folder))
    org = Organisation(plan, demo, demo['user'][0]['password_hash']).build()
    records = Records(demo, org).build()
    log(f'organisation: {plan.units} units, {plan.branches} branches, {len(org.copies)} teams, '
        f'{len(org.rows["user"])} users ({time.monotonic() - started:.1f} s)')
    if os.path.exists(path):
        os.remove(path)
    open_database(f'sqlite:///{path}')
    create_schema()
    audit_guards.drop_guards()       # the chain is written here directly, in bulk; the guards come back after
    database.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ('journal_mode=DELETE', 'synchronous=OFF', 'cache_size=-400000'):
        conn.execute(f'PRAGMA {pragma}')
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('audit_record', 'audit_personal')").fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute('BEGIN')
    for table, columns in ORG_COLUMNS.items():
        _insert(conn, table, columns, org.rows[table])
    for table, rows in records.rows.items():
        _insert(conn, table, demo['columns'][table], rows)
    audit = AuditCopy(demo, org, records, target_records, key)
    written = _write_audit(conn, audit, target_records)
    conn.execute('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1', (audit.seq, audit.hash))
    conn.execute('COMMIT')
    chain_done = time.monotonic()
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute('PRAGMA journal_mode=WAL')
    conn.close()
    open_database(f'sqlite:///{path}')
    audit_guards.install_guards()
    database.close()
    summary = {'teams': len(org.copies), 'units': plan.units, 'branches': plan.branches, 'users': len(org.rows['user']),
               'participations': len(records.rows['participation']), 'applications': len(records.rows['application']),
               'innovations': len(records.rows['innovation_result']), 'evidence': len(records.rows['evidence']),
               'audit_records': written, 'build_seconds': round(time.monotonic() - started, 1),
               'index_seconds': round(time.monotonic() - chain_done, 1), 'file_bytes': os.path.getsize(path)}
    log(f'built {path}: {summary}')
    return summary


def _write_audit(conn, audit, target):
    batch_r, batch_p, written = [], [], 0
    with click.progressbar(length=target, label='audit records', file=sys.stderr) as bar:
        for record, personal in audit.rows():
            batch_r.append(record)
            batch_p.append(personal)
            if len(batch_r) >= BATCH:
                written += _flush(conn, batch_r, batch_p, bar)
        written += _flush(conn, batch_r, batch_p, bar)
    return written


def _flush(conn, batch_r, batch_p, bar):
    _insert(conn, 'audit_record', AUDIT_COLUMNS['audit_record'], batch_r)
    _insert(conn, 'audit_personal', AUDIT_COLUMNS['audit_personal'], batch_p)
    n = len(batch_r)
    bar.update(n)
    batch_r.clear()
    batch_p.clear()
    return n


# --- PostgreSQL: COPY every table from the SQLite file --------------------------------------------------------

def _copy_text(value):
    if value is None:
        return '\\N'
    if isinstance(value, str):
        return value.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')
    return str(value)


def build_postgres(url, sqlite_path, log=print):
    """Load the rows of the SQLite file at `sqlite_path` into the (empty) PostgreSQL database at `url`."""
    started = time.monotonic()
    db = open_database(url)
    create_schema()
    audit_guards.drop_guards()       # the rows are copied in bulk; the guards come back after
    conn = db.connection()
    cur = conn.cursor()
    cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('audit_record', 'audit_personal') "
                "AND indexname NOT LIKE '%%_pkey'")
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute('DELETE FROM audit_head')
    source = sqlite3.connect(sqlite_path)
    tables = [m._meta.table_name for m in ALL_MODELS if m._meta.table_name not in ('schema_info',)]
    for table in tables:
        columns = [r[1] for r in source.execute(f'PRAGMA table_info("{table}")')]
        rows = source.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        names = ', '.join(f'"{c}"' for c in columns)
        while True:
            chunk = rows.fetchmany(50000)
            if not chunk:
                break
            text = ''.join('\t'.join(_copy_text(v) for v in row) + '\n' for row in chunk)
            cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', io.StringIO(text))
        if 'id' in columns:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f"GREATEST((SELECT MAX(id) FROM \"{table}\"), 1))")
    conn.commit()
    copied = time.monotonic()
    for _, sql in indexes:
        cur.execute(sql)
    conn.commit()
    audit_guards.install_guards()
    conn.commit()
    conn.autocommit = True
    cur.execute('VACUUM ANALYZE')
    conn.autocommit = False
    source.close()
    database.close()
    summary = {'build_seconds': round(time.monotonic() - started, 1),
               'index_seconds': round(time.monotonic() - copied, 1)}
    log(f'loaded PostgreSQL: {summary}')
    return summary


def cache_folder():
    folder = os.path.join(tempfile.gettempdir(), 'chuangzheng-scale')
    os.makedirs(folder, exist_ok=True)
    return folder
