"""Many writers at once, in separate processes, on different objects: the audit chain stays one gap-free,
verifiable sequence and every decision is in it exactly once."""
import multiprocessing

import engine
from engine.chain import audit
from engine.organisation.org import assign_role, get_or_create_user
from models import AuditRecord, Participation, Team, User, database, open_database

from conftest import password_hash
from scenarios import participation_in

WRITERS = 6
PER_WRITER = 5


def _writer(url, ids, actor_id, start, queue):
    open_database(url)
    start.wait()
    done = 0
    for part_id in ids:
        engine.fire(Participation.get_by_id(part_id), 'approve_enrolment', User.get_by_id(actor_id))
        done += 1
    queue.put(done)


def test_concurrent_writers_keep_one_gap_free_chain(world, tmp_path):
    from test_engine_concurrency import _url_of_current_database
    ids = []
    for i in range(WRITERS * PER_WRITER):
        team = Team.create(branch=world.b2, name=f'并发班{i}')
        leader = get_or_create_user(f'lead{i}', f'班长{i}', password_hash())
        assign_role(leader, 'team_leader', team=team)
        ids.append(participation_in(world, 'requested', team=team, leader=leader).id)
    before = AuditRecord.select().count()
    url = _url_of_current_database()
    ctx = multiprocessing.get_context('fork')
    queue, start = ctx.Queue(), ctx.Event()
    database.close()
    procs = [ctx.Process(target=_writer, args=(url, ids[w::WRITERS], world.chair2.id, start, queue))
             for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert sum(queue.get(timeout=5) for _ in procs) == WRITERS * PER_WRITER
    database.connect(reuse_if_open=True)
    seqs = [r.seq for r in AuditRecord.select(AuditRecord.seq).order_by(AuditRecord.seq)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == before + WRITERS * PER_WRITER
    assert AuditRecord.select().where(AuditRecord.event == 'approve_enrolment').count() == WRITERS * PER_WRITER
    assert audit.verify().ok
