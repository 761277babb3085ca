"""Two people acting on one object at once: exactly one wins, the other gets a conflict; a failure inside a
transition leaves neither the state change nor an audit record behind."""
import multiprocessing
import threading

import pytest

import engine
from engine.chain import audit
from engine.rules.effects import EFFECTS
from models import AuditHead, AuditRecord, Evidence, Participation, User, database, open_database

from scenarios import participation_in


def _audit_count(event):
    return AuditRecord.select().where(AuditRecord.event == event).count()


def test_two_threads_one_winner(world):
    part = participation_in(world, 'submitted')
    stale = [Participation.get_by_id(part.id) for _ in range(2)]
    actors = [world.chair1, world.staff]
    barrier = threading.Barrier(2)
    outcomes = []

    def act(i):
        barrier.wait()
        try:
            engine.fire(stale[i], 'approve_stage', actors[i], reason='同意')
            outcomes.append('ok')
        except engine.Conflict as err:
            outcomes.append('conflict')
            assert '刷新' in err.message
        finally:
            database.close()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ['conflict', 'ok']
    assert _audit_count('approve_stage') == 1
    assert Participation.get_by_id(part.id).state == 'stage_reached'
    assert audit.verify().ok


def _child(url, part_id, version, actor_id, queue, start):
    open_database(url)
    start.wait()
    stale = Participation.get_by_id(part_id)
    try:
        engine.fire(stale, 'return_stage', User.get_by_id(actor_id), reason='材料不全',
                    expected_version=version)
        queue.put('ok')
    except engine.Conflict:
        queue.put('conflict')
    except Exception as err:   # reported to the parent, which fails the test
        queue.put(repr(err))


def test_processes_one_winner(world, tmp_path):
    part = participation_in(world, 'submitted')
    url = _url_of_current_database()
    ctx = multiprocessing.get_context('fork')
    queue, start = ctx.Queue(), ctx.Event()
    database.close()
    procs = [ctx.Process(target=_child, args=(url, part.id, part.version, actor.id, queue, start))
             for actor in (world.chair1, world.staff, world.staff2, world.chair1)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(30)
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert results == ['conflict', 'conflict', 'conflict', 'ok']
    database.connect(reuse_if_open=True)
    assert _audit_count('return_stage') == 1
    assert audit.verify().ok


def _url_of_current_database():
    from peewee import SqliteDatabase
    db = database.obj
    if isinstance(db, SqliteDatabase):
        return f'sqlite:///{db.database}'
    import os
    return os.environ['TEST_DATABASE_URL']


def test_failing_effect_leaves_nothing_behind(world, monkeypatch):
    part = participation_in(world, 'in_progress')
    head = AuditHead.get_by_id(1).seq

    def broken(ctx):
        Evidence.update(status='submitted').execute()   # half of the work done…
        raise RuntimeError('disk full')                 # …then it fails

    monkeypatch.setitem(EFFECTS, 'lock_stage_evidence', broken)
    with pytest.raises(RuntimeError):
        engine.fire(part, 'submit_stage', world.leader1)
    stored = Participation.get_by_id(part.id)
    assert (stored.state, stored.version) == ('in_progress', part.version)
    assert set(e.status for e in Evidence.select()) == {'draft'}
    assert AuditHead.get_by_id(1).seq == head
    assert audit.verify().ok


def test_failing_audit_write_rolls_back_the_state(world, monkeypatch):
    part = participation_in(world, 'requested')

    def broken(*args, **kwargs):
        raise RuntimeError('audit store unavailable')

    monkeypatch.setattr(audit, 'append', broken)
    with pytest.raises(RuntimeError):
        engine.fire(part, 'approve_enrolment', world.chair1)
    assert Participation.get_by_id(part.id).state == 'requested'


def test_stale_version_is_a_conflict_not_a_silent_overwrite(world):
    part = participation_in(world, 'requested')
    engine.fire(Participation.get_by_id(part.id), 'return_enrolment', world.chair1, reason='补充材料')
    with pytest.raises(engine.Conflict):
        engine.fire(part, 'approve_enrolment', world.chair1)
    assert Participation.get_by_id(part.id).state == 'enrolment_returned'


def test_evidence_edit_conflicts_with_concurrent_submit(world):
    part = participation_in(world, 'in_progress')
    stale = Participation.get_by_id(part.id)
    engine.fire(part, 'submit_stage', world.leader1)
    req_id = Evidence.select().first().requirement_id
    with pytest.raises(engine.Conflict):
        engine.record_evidence(stale, req_id, world.leader1, text='改动')
    with pytest.raises(engine.InvalidTransition, match='锁定'):
        engine.record_evidence(Participation.get_by_id(part.id), req_id, world.leader1, text='改动')


def test_two_schedulers_at_once_close_a_notice_once(world):
    from engine.actions import scheduler
    from scenarios import application_in
    app = application_in(world, 'publicized', event='close_notice')
    barrier = threading.Barrier(2)
    summaries = []

    def run():
        barrier.wait()
        try:
            summaries.append(scheduler.tick())
        finally:
            database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(s['notices_closed'] for s in summaries) == 1
    assert _audit_count('close_notice') == 1
    from models import Application
    assert Application.get_by_id(app.id).state == 'notice_closed'


def test_sqlite_is_opened_for_concurrent_and_durable_writes(db):
    """WAL (readers never wait for the writer), a busy timeout (writers queue instead of failing) and
    synchronous=FULL (a confirmed decision survives a power cut)."""
    from models import is_sqlite
    if not is_sqlite():
        pytest.skip('SQLite settings')
    pragma = {name: database.execute_sql(f'PRAGMA {name}').fetchone()[0]
              for name in ('journal_mode', 'synchronous', 'busy_timeout', 'foreign_keys')}
    assert pragma == {'journal_mode': 'wal', 'synchronous': 2, 'busy_timeout': 10000, 'foreign_keys': 1}
