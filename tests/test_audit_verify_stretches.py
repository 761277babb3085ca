"""verify()'s fast path: a long chain is checked in stretches by worker processes, each streaming raw rows, and the
answer — ok, records checked, head, every problem and the FIRST bad seq — is the one a single pass gives, for
edited, deleted, inserted and relinked records, on a stretch's first record as well as inside one."""
import dataclasses

import pytest

from engine.chain import audit
from engine.chain import scan as chain_scan
from engine.chain import workers as chain_workers
from models import AuditRecord, audit_guards, database, is_sqlite

RECORDS = 40
STRETCH_STARTS = (15, 29)          # 3 workers × 1 stretch over seq 1…40: 1–14, 15–28, 29–40
REASONS = [None, '愿景需全员讨论', 'quote " and backslash \\ and\nnewline', None, '']
PAYLOADS = [{}, {'evidence_id': 7, 'requirement_id': 3, 'text_sha256': 'ab' * 32},
            {'added': [{'filename': '照片.png', 'sha256': 'cd' * 32, 'size': 228}], 'evidence_id': 8},
            {'scores': {'learning': 27.5, 'atmosphere': 18.0}, 'total': 45.5}, {'override': True},
            {'comments': {'4': '请补齐, "签名"'}, 'requirement_ids': [4, 5]}]


@pytest.fixture
def chain(world):
    """RECORDS audit records with varied payloads, reasons and actors (microsecond times from the real clock)."""
    people = [world.leader1, world.chair1, world.staff, None]
    with database.atomic():
        for i in range(RECORDS - AuditRecord.select().count()):
            audit.append('participation', 1 + i % 3, 'edit_evidence', 'in_progress', 'in_progress',
                         people[i % len(people)], 'team_leader', REASONS[i % len(REASONS)], PAYLOADS[i % len(PAYLOADS)])
    return AuditRecord.select().count()


@pytest.fixture
def stretches(monkeypatch):
    """Force the worker path on a short chain: three workers, one stretch each."""
    monkeypatch.setattr(chain_workers, 'PARALLEL_FROM', 0)
    monkeypatch.setattr(chain_workers, 'STRETCHES_PER_WORKER', 1)


def tamper(*statements):
    audit_guards.drop_guards()
    for sql in statements:
        database.execute_sql(sql)


def insert_after_last():
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    mark = '?' if is_sqlite() else '%s'
    database.execute_sql(
        'INSERT INTO audit_record (seq, object_type, object_id, event, from_state, to_state, actor_id, actor_role,'
        f' occurred_at, payload, personal_digest, prev_hash, hash) VALUES ({", ".join([mark] * 13)})',
        (last.seq + 1, 'participation', 1, 'approve_stage', 'submitted', 'stage_reached', 1, 'branch_chair',
         last.occurred_at, '{}', last.personal_digest, last.hash, 'f' * 64))


def both_ways(**options):
    """verify() of the records (not the guards the tampering dropped) in one pass here and in stretches on worker
    processes; both answers as dicts."""
    here = audit.verify(workers=1, guards=False, **options)
    there = audit.verify(workers=3, guards=False, **options)
    return dataclasses.asdict(here), dataclasses.asdict(there)


def test_the_fast_hash_is_the_reference_hash(chain):
    """Every record's hash recomputed from raw rows equals engine.chain.audit.record_hash of the peewee row."""
    key, checker = audit.audit_key(), chain_scan.Checker(audit.audit_key())
    rows = {row[0]: row for row in database.execute_sql(f'{chain_scan.SELECT} ORDER BY r.seq').fetchall()}
    for record in AuditRecord.select().order_by(AuditRecord.seq):
        raw = rows[record.seq]
        assert checker.record_hash(raw[0], raw[11], *raw[1:11]) == record.hash == audit.record_hash(
            key, record.seq, record.prev_hash, record.object_type, record.object_id, record.event,
            record.from_state, record.to_state, record.actor_id, record.actor_role, record.occurred_at,
            record.payload, record.personal_digest)
        assert checker.personal_digest(raw[13], raw[14]) == audit.personal_digest(key, raw[13], raw[14])


@pytest.mark.parametrize('case, first_bad, word', [
    ('clean', None, None),
    ('edited', 12, 'edited'),
    ('edited first of a stretch', 15, 'edited'),
    ('deleted', 20, 'missing'),
    ('deleted first of a stretch', 29, 'missing'),
    ('relinked first of a stretch', 29, 'does not link'),
    ('personal data', 33, 'personal data'),
    ('forged erasure', 33, 'forged erasure'),
    ('inserted', RECORDS + 1, 'edited'),
])
def test_stretches_name_the_same_first_bad_record(chain, stretches, case, first_bad, word):
    tamper(*{
        'clean': [],
        'edited': ["UPDATE audit_record SET to_state = 'approved' WHERE seq = 12"],
        'edited first of a stretch': ["UPDATE audit_record SET payload = '{\"x\": 1}' WHERE seq = 15"],
        'deleted': ['DELETE FROM audit_personal WHERE seq = 20', 'DELETE FROM audit_record WHERE seq = 20'],
        'deleted first of a stretch': ['DELETE FROM audit_personal WHERE seq = 29',
                                       'DELETE FROM audit_record WHERE seq = 29'],
        'relinked first of a stretch': [f"UPDATE audit_record SET prev_hash = '{'e' * 64}' WHERE seq = 29"],
        'personal data': ["UPDATE audit_personal SET actor_name = '某人' WHERE seq = 33"],
        'forged erasure': ["UPDATE audit_personal SET reason = '同意', erased_at = '2026-12-01 00:00:00' WHERE seq = 33"],
        'inserted': [],
    }[case])
    if case == 'inserted':
        insert_after_last()
    here, there = both_ways()
    assert here == there
    assert here['ok'] is (first_bad is None)
    if first_bad is not None:
        assert here['problems'][0][0] == first_bad and word in here['problems'][0][1]
        assert here['checked'] == (first_bad - 1 if case != 'inserted' else RECORDS)


def test_stretches_report_every_problem_in_order(chain, stretches):
    """Without stopping at the first problem, the problems, count and head agree too."""
    tamper("UPDATE audit_record SET event = 'forged' WHERE seq = 3",
           'DELETE FROM audit_personal WHERE seq = 15', 'DELETE FROM audit_record WHERE seq = 15',
           "UPDATE audit_personal SET reason = 'changed' WHERE seq = 22",
           f"UPDATE audit_record SET prev_hash = '{'e' * 64}' WHERE seq = 29")
    here, there = both_ways(stop_at_first=False)
    assert here == there
    assert [seq for seq, _ in here['problems']] == [3, 15, 22, 29]


def test_stream_reads_in_bounded_batches(chain, monkeypatch):
    """In-process verification holds one batch of rows at a time; the checker's caches are bounded."""
    fetched = []
    execute = database.obj.execute_sql

    def spy(sql, params=None, *args, **kwargs):
        cursor = execute(sql, params, *args, **kwargs)
        if 'audit_personal' in sql:
            rows = cursor.fetchall()
            fetched.append(len(rows))
            return type('Rows', (), {'fetchall': lambda self: rows})()
        return cursor
    monkeypatch.setattr(database.obj, 'execute_sql', spy)
    rows = list(audit._stream(1, batch=7))
    assert [r[0] for r in rows] == list(range(1, chain + 1))
    assert max(fetched) == 7 and len(fetched) == -(-chain // 7) + 1
    monkeypatch.setattr(chain_scan, 'CACHE_LIMIT', 3)
    checker = chain_scan.Checker(audit.audit_key())
    for i in range(50):
        checker.personal_digest(f'name{i}', None)
        assert len(checker._digests) <= 3


def test_flask_verify_uses_the_workers(tmp_path, monkeypatch):
    from web import create_app
    from conftest import World
    monkeypatch.setattr(chain_workers, 'PARALLEL_FROM', 0)
    monkeypatch.setenv('CHUANGZHENG_VERIFY_WORKERS', '2')
    app = create_app({'DATABASE_URL': f'sqlite:///{tmp_path}/cli.db'})
    runner = app.test_cli_runner()
    assert runner.invoke(args=['init-db']).exit_code == 0
    World().launch()
    records = AuditRecord.select().count()
    started = []
    real_start = chain_workers._start
    monkeypatch.setattr(chain_workers, '_start', lambda *a: started.append(a[0]) or real_start(*a))
    result = runner.invoke(args=['verify'])
    assert result.exit_code == 0 and 'audit chain intact' in result.output, result.output
    assert sorted(started) == list(range(min(records, 4)))      # 2 workers × 2 stretches (one per record at most)


def test_records_appended_while_the_stretches_are_checked_are_checked_too(chain, stretches, world):
    """On a live system decisions keep coming while a long chain is verified: the records appended after the
    stretches were cut are checked as well, and the head is compared with the chain's real end."""
    appended = []

    def a_decision_meanwhile(_done):
        if not appended:
            with database.atomic():
                appended.append(audit.append('participation', 1, 'approve_stage', 'submitted', 'stage_reached',
                                             world.chair1, 'branch_chair', '同意', {}))

    result = audit.verify(workers=3, progress=a_decision_meanwhile)
    assert appended == [chain + 1]
    assert result.ok, result.problems
    assert (result.checked, result.head_seq) == (chain + 1, chain + 1)


def test_stretches_accept_a_real_erasure(chain, stretches, world):
    """The workers learn which personal parts were erased by erase-person: those verify as erased, not forged."""
    from engine.chain.privacy import erase_person
    assert erase_person(world.leader1, '本人申请') > 0
    here, there = both_ways()
    assert here == there and here['ok'], here['problems']
