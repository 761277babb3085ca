"""The audit history against an attacker with write access to the database: the database refuses everything the
application never does, and verify names any edit, deletion, insertion, forged erasure or truncation made after
the guards were dropped — even with the chain recomputed — and reports the missing guards themselves."""
import pytest
from peewee import DatabaseError

import engine
from engine.chain import audit
from engine.chain.privacy import erase_person
from models import AuditHead, AuditPersonal, AuditRecord, audit_guards, database, is_sqlite

from scenarios import participation_in


@pytest.fixture
def history(world):
    """A campaign launched and one team through enrolment and evidence: a dozen records."""
    part = participation_in(world, 'requested')
    engine.fire(part, 'approve_enrolment', world.chair1)
    assert audit.verify().ok
    return AuditRecord.select().count()


def drop_append_only_guards():
    """What an attacker with database rights would do first."""
    audit_guards.drop_guards()


def mark(n):
    return ', '.join(['?' if is_sqlite() else '%s'] * n)


def record_of(user):
    return AuditRecord.select().where(AuditRecord.actor_id == user.id).order_by(AuditRecord.seq).first()


# What the application never does to the audit tables: each is refused by the database itself.
REFUSED = [
    "UPDATE audit_record SET event = 'x' WHERE seq = 2",
    'DELETE FROM audit_record WHERE seq = 2',
    "UPDATE audit_personal SET actor_name = '某人' WHERE seq = 2",
    "UPDATE audit_personal SET actor_name = '某人', reason = '材料齐全，同意', erased_at = '2026-12-01 00:00:00' "
    "WHERE seq = 2",
    "UPDATE audit_personal SET reason = NULL WHERE seq = 2",
    'DELETE FROM audit_personal WHERE seq = 2',
    'UPDATE audit_head SET seq = seq - 1',
    'UPDATE audit_head SET seq = seq + 5',
    'DELETE FROM audit_head',
    "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, 'x')",
    "INSERT INTO audit_personal (seq, actor_name, reason) VALUES (1000, '某人', '伪造')",
]


@pytest.mark.parametrize('sql', REFUSED)
def test_database_refuses_what_the_application_never_does(history, sql):
    with pytest.raises(DatabaseError, match='append-only'):
        with database.atomic():
            database.execute_sql(sql)
    assert audit.verify().ok


def test_database_refuses_records_not_appended_at_the_head(history):
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    columns = ('seq, object_type, object_id, event, from_state, to_state, actor_id, actor_role, occurred_at, '
               'payload, personal_digest, prev_hash, hash')
    for seq, prev in ((last.seq + 2, last.hash), (last.seq + 1, 'a' * 64)):
        with pytest.raises(DatabaseError, match='append-only'):
            with database.atomic():
                database.execute_sql(f'INSERT INTO audit_record ({columns}) VALUES ({mark(13)})',
                                     (seq, 'participation', 1, 'approve_stage', 'submitted', 'stage_reached', 1,
                                      'branch_chair', last.occurred_at, '{}', last.personal_digest, prev, 'f' * 64))
    assert audit.verify().ok


@pytest.mark.skipif('not __import__("models").is_sqlite()', reason='TRUNCATE exists on PostgreSQL only')
def test_sqlite_delete_of_a_whole_table_is_refused(history):
    for table in ('audit_record', 'audit_personal', 'audit_head'):
        with pytest.raises(DatabaseError, match='append-only'):
            with database.atomic():
                database.execute_sql(f'DELETE FROM {table}')


@pytest.mark.skipif('__import__("models").is_sqlite()', reason='TRUNCATE exists on PostgreSQL only')
@pytest.mark.parametrize('tables', ['audit_record', 'audit_personal', 'audit_head',
                                    'audit_record, audit_personal, audit_head'])
def test_postgres_refuses_truncate(history, tables):
    with pytest.raises(DatabaseError, match='append-only'):
        with database.atomic():
            database.execute_sql(f'TRUNCATE {tables}')
    assert AuditRecord.select().count() == history and audit.verify().ok


def test_the_one_legitimate_erasure_still_works(history, world):
    assert erase_person(world.leader1, '本人申请 2026-11-01 第3号') > 0
    result = audit.verify()
    assert result.ok, result.problems
    row = AuditPersonal.get(AuditPersonal.seq == record_of(world.leader1).seq)
    assert row.actor_name is None and row.reason is None and row.erased_at is not None


def test_edited_record_is_named(history):
    drop_append_only_guards()
    database.execute_sql("UPDATE audit_record SET to_state = 'approved' WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 3 and 'edited' in result.problems[0][1]


def test_edit_with_recomputed_chain_is_still_caught(history):
    """Without the HMAC key an attacker cannot produce valid hashes, even recomputing the whole chain."""
    drop_append_only_guards()
    recompute_chain(b'guessed-key', lambda row: 'approved' if row.seq == 3 else row.to_state)
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 1


def recompute_chain(key, to_state_of, start=1):
    """Rewrite every record from `start` on with new to_states and a chain recomputed with `key`."""
    prev = AuditRecord.get(AuditRecord.seq == start - 1).hash if start > 1 else '0' * 64
    for row in AuditRecord.select().where(AuditRecord.seq >= start).order_by(AuditRecord.seq):
        to_state = to_state_of(row)
        h = audit.record_hash(key, row.seq, prev, row.object_type, row.object_id, row.event, row.from_state,
                              to_state, row.actor_id, row.actor_role, row.occurred_at, row.payload,
                              row.personal_digest)
        AuditRecord.update(to_state=to_state, prev_hash=prev, hash=h).where(AuditRecord.seq == row.seq).execute()
        prev = h
    AuditHead.update(hash=prev).execute()


def test_deleted_record_is_named(history):
    drop_append_only_guards()
    database.execute_sql('DELETE FROM audit_personal WHERE seq = 4')
    database.execute_sql('DELETE FROM audit_record WHERE seq = 4')
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 4 and 'missing' in result.problems[0][1]


def test_inserted_record_is_named(history):
    drop_append_only_guards()
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    database.execute_sql(
        'INSERT INTO audit_record (seq, object_type, object_id, event, from_state, to_state, actor_id, actor_role,'
        f' occurred_at, payload, personal_digest, prev_hash, hash) VALUES ({mark(13)})',
        (last.seq + 1, 'participation', 1, 'approve_stage', 'submitted', 'stage_reached', 1, 'branch_chair',
         last.occurred_at, '{}', last.personal_digest, last.hash, 'f' * 64))
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == history + 1


def test_edited_personal_data_is_detected(history):
    drop_append_only_guards()
    database.execute_sql("UPDATE audit_personal SET actor_name = '某人' WHERE seq = 2")
    assert audit.verify().first_bad_seq == 2
    database.execute_sql("UPDATE audit_personal SET actor_name = '周干事' WHERE seq = 2")
    assert audit.verify(guards=False).ok


def forge_erasure(seq, name, reason):
    database.execute_sql(f'UPDATE audit_personal SET actor_name = {mark(1)}, reason = {mark(1)}, '
                         f"erased_at = '2026-12-01 00:00:00' WHERE seq = {mark(1)}", (name, reason, seq))


@pytest.mark.parametrize('name, reason', [('李卫东', '材料齐全，同意'), (None, None), ('李卫东', None)])
def test_forged_erasure_is_named(history, world, name, reason):
    """Setting erased_at used to make verify skip the row's personal part, so a name or reason could be
    replaced. Only an empty part of a person erased by erase-person, before that erasure record, is erased."""
    drop_append_only_guards()
    seq = record_of(world.chair1).seq
    forge_erasure(seq, name, reason)
    for result in (audit.verify(), audit.verify(checkpoint=audit.checkpoint()),
                   audit.verify(stop_at_first=False, guards=False)):
        assert not result.ok and result.first_bad_seq == seq
        assert 'forged erasure' in result.problems[0][1]


def test_erased_looking_record_after_the_persons_erasure_is_forged(history, world):
    erase_person(world.leader1, '本人申请')
    drop_append_only_guards()
    later = AuditRecord.select().where(AuditRecord.actor_id == world.chair1.id).order_by(
        AuditRecord.seq.desc()).first().seq
    other_user_erasure = AuditRecord.get(AuditRecord.event == 'erase_personal_data')
    # An erasure record of leader1 does not cover chair1's records, nor records written after it.
    forge_erasure(later, None, None)
    result = audit.verify(guards=False)
    assert not result.ok and result.first_bad_seq == later and other_user_erasure.object_id == world.leader1.id


def test_forged_erasure_is_flagged_in_the_object_history(history, world):
    from engine.reads.queries import timeline
    drop_append_only_guards()
    seq = record_of(world.chair1).seq
    row = AuditRecord.get(AuditRecord.seq == seq)
    forge_erasure(seq, '李卫东', '材料齐全，同意')
    marked = {r.seq: r.integrity for r in timeline(row.object_type, row.object_id)}
    assert marked[seq] == 'tampered'
    assert set(marked.values()) - {'tampered'} == {'intact'}


def test_chain_needs_the_same_key(history, monkeypatch):
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', 'another-key')
    assert audit.verify().first_bad_seq == 1


# ---- checkpoints: each proves the records up to its seq -------------------------------------------------------

def test_truncation_is_caught_by_a_checkpoint(history):
    checkpoint = audit.checkpoint()
    assert checkpoint.startswith(f'{history}:')
    drop_append_only_guards()
    database.execute_sql('DELETE FROM audit_personal WHERE seq > %d' % (history - 2))
    database.execute_sql('DELETE FROM audit_record WHERE seq > %d' % (history - 2))
    assert audit.verify(guards=False).problems                  # the head row still names the old end
    new_head = AuditRecord.get(AuditRecord.seq == history - 2)
    AuditHead.update(seq=new_head.seq, hash=new_head.hash).execute()
    careless = audit.verify()
    assert careless.problems == [] and careless.guard_problems   # a careful attacker fixed the head…
    result = audit.verify(checkpoint=checkpoint)                 # …but the auditor's checkpoint remembers
    assert not result.ok and 'cut off' in result.problems[0][1]


def test_checkpoint_of_a_rewritten_record_is_caught(history):
    checkpoint = f'3:{"a" * 64}'
    result = audit.verify(checkpoint=checkpoint)
    assert not result.ok and result.first_bad_seq == 3


def test_rewrite_with_the_right_key_is_caught_by_a_later_checkpoint(history, world):
    """Whoever holds the key can recompute a consistent chain; a checkpoint proves only the records up to it,
    and the next checkpoint proves the records after."""
    early = audit.checkpoint()
    early_seq = int(early.split(':')[0])
    world.campaign = engine.fire(world.campaign, 'advance', world.staff, reason='按处工会会议决定', override=True)
    late = audit.checkpoint()
    drop_append_only_guards()
    recompute_chain(audit.audit_key(), lambda row: 'closed' if row.seq == early_seq + 1 else row.to_state,
                    start=early_seq + 1)
    assert audit.verify(guards=False).ok                          # the chain itself is consistent again
    assert audit.verify(checkpoint=early, guards=False).ok        # the early checkpoint cannot see it
    result = audit.verify(checkpoints=[early, late], guards=False)
    assert not result.ok and result.first_bad_seq == int(late.split(':')[0])
    assert 'rewritten' in result.problems[0][1] and result.checkpoints == 2


def test_signed_checkpoint_lines(history, tmp_path, monkeypatch):
    from engine.chain import checkpoints
    key = audit.audit_key()
    line = checkpoints.append_to(str(tmp_path / 'kept.txt'), key)
    assert line.startswith(audit.checkpoint() + ' at=') and '+08:00 sig=' in line
    assert checkpoints.read_file(str(tmp_path / 'kept.txt'), key) == [line]
    assert audit.verify(checkpoints=[line]).ok
    forged = line.replace(line.split()[0], f'{history}:{"b" * 64}')
    with pytest.raises(ValueError, match='signature'):
        audit.verify(checkpoints=[forged])
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', 'x' * 40)
    with pytest.raises(ValueError, match='signature'):
        checkpoints.parse(line, audit.audit_key())
    for bad in ('', '12', f'-1:{"a" * 64}', f'3:{"A" * 64}', f'3:{"a" * 64} at=x', f'3:{"a" * 64} sig=1 at=2 x=3'):
        with pytest.raises(ValueError, match='not a checkpoint'):
            checkpoints.parse(bad)


# ---- the guards themselves ------------------------------------------------------------------------------------

def test_fresh_database_has_every_guard(history):
    assert audit_guards.problems() == []


def test_missing_guards_are_reported(history):
    drop_append_only_guards()
    result = audit.verify()
    assert not result.ok and result.problems == []
    assert len(result.guard_problems) == len(audit_guards.SQLITE_GUARDS if is_sqlite() else audit_guards.POSTGRES_GUARDS)
    assert all('missing' in p for p in result.guard_problems)
    audit_guards.install_guards()
    assert audit.verify().ok


def test_altered_guard_is_reported(history):
    audit_guards.alter_one_guard()
    result = audit.verify()
    assert not result.ok and any('audit_record_no_update' in p or 'audit_record_append_only' in p
                                 for p in result.guard_problems)
    assert all('altered' in p for p in result.guard_problems)


@pytest.mark.skipif('__import__("models").is_sqlite()', reason='SQLite triggers cannot be disabled')
def test_disabled_guard_is_reported(history):
    database.execute_sql('ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only')
    result = audit.verify()
    assert result.guard_problems == ['database guard audit_record_append_only is disabled']


# ---- the key ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('key, refused', [(None, 'not set'), (audit.DEV_KEY, 'development key'),
                                          ('short-but-secret', 'shorter than 32'), ('k' * 32, None)])
def test_production_refuses_the_development_key_and_short_keys(monkeypatch, key, refused):
    monkeypatch.setenv('CHUANGZHENG_ENV', 'production')
    if key is None:
        monkeypatch.delenv('CHUANGZHENG_AUDIT_KEY', raising=False)
    else:
        monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', key)
    if refused:
        with pytest.raises(audit.AuditKeyError, match=refused):
            audit.audit_key()
    else:
        assert audit.audit_key() == key.encode()


def test_development_key_is_warned_about_loudly(monkeypatch, caplog):
    monkeypatch.delenv('CHUANGZHENG_AUDIT_KEY', raising=False)
    monkeypatch.setattr(audit, '_warned', False)
    with caplog.at_level('WARNING', logger='chuangzheng.audit'):
        assert audit.audit_key() == audit.DEV_KEY.encode()
    assert 'PUBLIC DEVELOPMENT KEY' in caplog.text
