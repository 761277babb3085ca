"""Crashes: a process writing a burst of transitions and evidence edits (tests/reliability_writer.py) is killed
with SIGKILL at a random moment, again and again (seeded). After every kill nothing half-done is left: every
workflow object's state is the to_state of its last audit record and its version counts its records, the
chain verifies and its head row names the last record, every audit_record has its audit_personal row, every
attachment's file is whole, and every step the writer saw committed is in the history."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from engine.organisation.org import assign_role, get_or_create_user
from models import Attachment, AuditRecord, Team, database, is_sqlite

from conftest import World, password_hash
from reliability_support import AUDIT_KEY, ROOT, check_chain, check_objects, child_env, database_url, report

pytestmark = pytest.mark.reliability

KILLS = int(os.environ.get('RELIABILITY_KILLS', '30'))
SEED = int(os.environ.get('RELIABILITY_SEED', '20261126'))
TEAMS = 8
WRITER = os.path.join(ROOT, 'tests', 'reliability_writer.py')
APP_NAME = 'reliability_writer'


def _start_writer(url, seed, out, err):
    return subprocess.Popen([sys.executable, '-u', WRITER, url, str(seed)], cwd=ROOT, stdout=out, stderr=err,
                            env=child_env(CHUANGZHENG_AUDIT_KEY=AUDIT_KEY))


def _wait_ready(path, writer, seconds=30):
    deadline = time.monotonic() + seconds
    while not path.read_text().startswith('ready'):
        assert writer.poll() is None, f'the writer exited with {writer.returncode} before it was ready'
        assert time.monotonic() < deadline, 'the writer did not start'
        time.sleep(0.01)


def _writer_url(url):
    """PostgreSQL: name the writer's sessions, to wait for them to end after a kill."""
    if url.startswith('sqlite'):
        return url
    return f'{url}{"&" if "?" in url else "?"}application_name={APP_NAME}'


def _wait_for_killed_sessions():
    """PostgreSQL: the killed writer's server process ends once it sees the connection gone — rolling back,
    or first finishing a COMMIT it had already received. Check only after that."""
    if is_sqlite():
        return
    deadline = time.monotonic() + 30
    while database.execute_sql('SELECT count(*) FROM pg_stat_activity WHERE application_name = %s',
                               (APP_NAME,)).fetchone()[0]:
        assert time.monotonic() < deadline, 'a killed writer\'s session is still open'
        time.sleep(0.01)


def _check_files(uploads):
    """Every attachment row names a stored file whose contents hash to it (files are written before the row)."""
    for sha256, size in Attachment.select(Attachment.sha256, Attachment.size).tuples():
        with open(os.path.join(uploads, sha256), 'rb') as f:
            data = f.read()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha256, size)
    return Attachment.select().count()


def _steps(lines):
    """(committed, refused, killed in the middle of a step) from the writer's log."""
    committed, refused = lines.count('ok'), lines.count('no')
    return committed, refused, bool(lines) and lines[-1].startswith('b ')


def _write_and_kill(url, seed, delay, out_path, err_path):
    """Start a writer, let it write for `delay` seconds, SIGKILL it; returns its log lines."""
    with open(out_path, 'w') as out, open(err_path, 'w') as err:
        writer = _start_writer(url, seed, out, err)
        try:
            _wait_ready(out_path, writer)
            time.sleep(delay)
            assert writer.poll() is None, f'the writer died by itself: {err_path.read_text()[-2000:]}'
            os.kill(writer.pid, signal.SIGKILL)
        finally:
            if writer.poll() is None:
                writer.kill()
            writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL, err_path.read_text()[-2000:]
    _wait_for_killed_sessions()
    return out_path.read_text().splitlines()


def _crash_world():
    world = World()
    world.launch()
    for i in range(TEAMS):
        team = Team.create(branch=world.b1, name=f'崩溃班{i}')
        assign_role(get_or_create_user(f'crash_leader{i}', f'崩溃班长{i}', password_hash()), 'team_leader', team=team)
    return world


def test_sigkilled_writers_leave_nothing_half_done(db, tmp_path, monkeypatch, record_property):
    began = time.monotonic()
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', AUDIT_KEY)
    _crash_world()
    url, uploads, rng = _writer_url(database_url(tmp_path)), os.environ['CHUANGZHENG_UPLOADS'], random.Random(SEED)
    check_chain()
    check_objects()
    totals = {'committed': 0, 'refused': 0, 'mid_step': 0, 'after_commit': 0}
    for kill in range(KILLS):
        before = AuditRecord.select().count()
        lines = _write_and_kill(url, rng.randrange(2 ** 32), rng.uniform(0.02, 0.5), tmp_path / f'writer{kill}.out',
                                tmp_path / f'writer{kill}.err')
        committed, refused, mid_step = _steps(lines)
        written = AuditRecord.select().count() - before
        # every committed step is one record; the step it was killed in may have committed before it could say so
        assert written in (committed, committed + 1), (written, committed)
        for key, value in (('committed', committed), ('refused', refused), ('mid_step', mid_step),
                           ('after_commit', written - committed)):
            totals[key] += value
        records, objects, files = check_chain(), check_objects(), _check_files(uploads)
    assert totals['committed'] > KILLS, 'the writers hardly wrote anything: the test proves nothing'
    assert objects.get('participation', 0) >= TEAMS // 2
    kinds = AuditRecord.select(AuditRecord.event).where(AuditRecord.object_type != 'user').distinct().count()
    backend = 'sqlite' if is_sqlite() else 'postgresql'
    report(record_property, f'crashes[{backend}]: {KILLS} SIGKILLs survived (seed {SEED}), {totals["mid_step"]} of '
           f'them in the middle of a step ({totals["after_commit"]} just after its commit), {totals["committed"]} '
           f'steps committed and {totals["refused"]} refused by the engine, {records} audit records of {kinds} '
           f'kinds verified, {sum(objects.values())} objects '
           f'({", ".join(f"{n} {t}" for t, n in sorted(objects.items()))}) and {files} attachments consistent, '
           f'{time.monotonic() - began:.1f} s in all')
