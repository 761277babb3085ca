"""Shared by the reliability tests: a real multi-worker gunicorn server on the test database, the URL a
child process needs to reach that database, and the invariants that must hold between objects, their
versions and the audit chain whatever happened (a race, a crash)."""
import contextlib
import os
import subprocess
import time
import urllib.request
from collections import Counter

from peewee import SqliteDatabase

from engine.chain import audit
from engine.door.kinds import KINDS
from models import AuditHead, AuditPersonal, AuditRecord, database

from bench.load_server import gunicorn_process
from bench.pgserver import free_port
from conftest import _url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUDIT_KEY = 'reliability-test-audit-key-0123456789abcdef'
SERVER_SECRETS = {'SECRET_KEY': 'r' * 40, 'CHUANGZHENG_AUDIT_KEY': AUDIT_KEY, 'CHUANGZHENG_ENV': 'production',
                  'CHUANGZHENG_API_RATE_LIMIT': '100000'}


def database_url(tmp_path):
    """The URL of the test database the `db` fixture opened (a SQLite file, or $TEST_DATABASE_URL)."""
    if isinstance(database.obj, SqliteDatabase):
        return f'sqlite:///{os.path.abspath(database.obj.database)}'
    return _url(tmp_path)


def child_env(**values):
    """The environment of a child process: ours without secrets or a database URL of its own, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in ('SECRET_KEY', 'CHUANGZHENG_AUDIT_KEY', 'DATABASE_URL')}
    env['PYTHONPATH'] = os.pathsep.join([ROOT, os.path.join(ROOT, 'tests')])
    env.update(values)
    return env


@contextlib.contextmanager
def gunicorn_server(url, log_path, workers=4):
    """Serve the app with gunicorn.conf.py (production settings) on a free loopback port; yields the base URL."""
    port = free_port()
    env = child_env(**SERVER_SECRETS, DATABASE_URL=url, CHUANGZHENG_BIND=f'127.0.0.1:{port}',
                    CHUANGZHENG_WORKERS=str(workers))
    with open(log_path, 'w') as log, gunicorn_process(env, log) as server:
        base = f'http://127.0.0.1:{port}'
        _wait_for_workers(base + '/healthz', server, workers)
        yield base


def _wait_for_workers(url, server, workers, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            raise RuntimeError(f'gunicorn exited with {server.returncode}')
        running = subprocess.run(['pgrep', '-P', str(server.pid)], capture_output=True, text=True).stdout.split()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200 and len(running) == workers:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f'gunicorn did not answer on {url} with {workers} workers in {seconds} s')
        time.sleep(0.2)


def report(record_property, line):
    """A test's one-line figures: printed (shown with -s or -rP) and kept in the JUnit XML (--junitxml)."""
    print('\n' + line)
    record_property(line.split(':', 1)[0], line)


# --- invariants ------------------------------------------------------------------------------------------

def check_chain():
    """The history is whole: the chain verifies, the head row names the last record, seqs run 1…n without a
    gap, and every audit_record has its audit_personal row and vice versa (no half-written record).
    Returns the number of records checked."""
    result = audit.verify()
    assert result.ok, result.problems
    seqs = [seq for (seq,) in AuditRecord.select(AuditRecord.seq).order_by(AuditRecord.seq).tuples()]
    assert seqs == list(range(1, len(seqs) + 1)), 'audit seqs have a gap or a duplicate'
    head = AuditHead.get_by_id(1)
    assert seqs and (head.seq, head.hash) == (seqs[-1], AuditRecord.get_by_id(seqs[-1]).hash)
    assert result.checked == len(seqs)
    personal = [seq for (seq,) in AuditPersonal.select(AuditPersonal.seq).order_by(AuditPersonal.seq).tuples()]
    assert personal == seqs, 'audit_record and audit_personal rows do not pair up'
    return len(seqs)


def check_objects():
    """Every workflow object agrees with its history: its state is the to_state of its last audit record and
    its version is the number of its records (created at version 1 by one record; each fire and each evidence
    edit adds one version and one record, in one transaction). No record names a missing object.
    Returns the number of objects of each type."""
    last, count = {}, Counter()
    for otype, oid, to_state in (AuditRecord.select(AuditRecord.object_type, AuditRecord.object_id,
                                                    AuditRecord.to_state)
                                 .where(AuditRecord.object_type.in_(list(KINDS))).order_by(AuditRecord.seq).tuples()):
        last[(otype, oid)] = to_state
        count[(otype, oid)] += 1
    objects, seen = Counter(), set()
    for otype, model in ((name, kind.model) for name, kind in KINDS.items()):
        for oid, state, version in model.select(model.id, model.state, model.version).tuples():
            assert (otype, oid) in last, f'{otype} #{oid} has no audit record'
            assert state == last[(otype, oid)], (f'{otype} #{oid} is {state!r} but its last audit record says '
                                                 f'{last[(otype, oid)]!r}')
            assert version == count[(otype, oid)], (f'{otype} #{oid} is at version {version} with '
                                                    f'{count[(otype, oid)]} audit records')
            objects[otype] += 1
            seen.add((otype, oid))
    orphans = set(last) - seen
    assert not orphans, f'audit records for objects that do not exist: {sorted(orphans)[:5]}'
    return dict(objects)
