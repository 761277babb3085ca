"""The audit history: append-only in the database, and any edit, deletion, insertion or truncation made
outside the application is named by verify."""
import pytest
from peewee import DatabaseError

import engine
from engine import audit
from models import AuditHead, AuditRecord, database, is_sqlite

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
    if is_sqlite():
        database.execute_sql('DROP TRIGGER audit_record_no_update')
        database.execute_sql('DROP TRIGGER audit_record_no_delete')
    else:
        database.execute_sql('DROP TRIGGER audit_record_append_only ON audit_record')


def test_database_refuses_update_and_delete(history):
    for sql in ("UPDATE audit_record SET event = 'x' WHERE seq = 2", 'DELETE FROM audit_record WHERE seq = 2'):
        with pytest.raises(DatabaseError, match='append-only'):
            with database.atomic():
                database.execute_sql(sql)
    assert audit.verify().ok


def test_edited_record_is_named(history):
    drop_append_only_guards()
    database.execute_sql("UPDATE audit_record SET to_state = 'approved' WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 3 and 'edited' in result.problems[0][1]


def test_edit_with_recomputed_chain_is_still_caught(history):
    """Without the HMAC key an attacker cannot produce valid hashes, even recomputing the whole chain."""
    drop_append_only_guards()
    forged_key = b'guessed-key'
    prev = '0' * 64
    for row in AuditRecord.select().order_by(AuditRecord.seq):
        to_state = 'approved' if row.seq == 3 else row.to_state
        h = audit.record_hash(forged_key, row.seq, prev, row.object_type, row.object_id, row.event, row.from_state,
                              to_state, row.actor_id, row.actor_role, row.occurred_at, row.payload,
                              row.personal_digest)
        AuditRecord.update(to_state=to_state, prev_hash=prev, hash=h).where(AuditRecord.seq == row.seq).execute()
        prev = h
    AuditHead.update(hash=prev).execute()
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 1


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
        ' occurred_at, payload, personal_digest, prev_hash, hash) VALUES (%s)' % ', '.join(['?' if is_sqlite() else '%s'] * 13),
        (last.seq + 1, 'participation', 1, 'approve_stage', 'submitted', 'stage_reached', 1, 'branch_chair',
         last.occurred_at, '{}', last.personal_digest, last.hash, 'f' * 64))
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == history + 1


def test_edited_personal_data_is_detected_but_erasure_is_not_tampering(history, world):
    database.execute_sql("UPDATE audit_personal SET actor_name = '某人' WHERE seq = 2")
    assert audit.verify().first_bad_seq == 2
    database.execute_sql("UPDATE audit_personal SET actor_name = '周干事' WHERE seq = 2")
    assert audit.verify().ok
    assert audit.erase_personal_data(world.leader1.id) > 0
    assert audit.verify().ok
    rows = list(audit.history('participation', 1))
    assert any(r.actor_id == world.leader1.id and r.actor_name is None for r in rows)


def test_truncation_is_caught_by_a_checkpoint(history):
    checkpoint = audit.checkpoint()
    assert checkpoint.startswith(f'{history}:')
    drop_append_only_guards()
    database.execute_sql('DELETE FROM audit_personal WHERE seq > %d' % (history - 2))
    database.execute_sql('DELETE FROM audit_record WHERE seq > %d' % (history - 2))
    assert not audit.verify().ok                    # the head row still names the old end
    new_head = AuditRecord.get(AuditRecord.seq == history - 2)
    AuditHead.update(seq=new_head.seq, hash=new_head.hash).execute()
    assert audit.verify().ok                        # a careful attacker fixed the head…
    result = audit.verify(checkpoint=checkpoint)    # …but the auditor's checkpoint remembers
    assert not result.ok and 'cut off' in result.problems[0][1]


def test_checkpoint_of_a_rewritten_record_is_caught(history):
    checkpoint = f'3:{"a" * 64}'
    result = audit.verify(checkpoint=checkpoint)
    assert not result.ok and result.first_bad_seq == 3


def test_chain_needs_the_same_key(history, monkeypatch):
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', 'another-key')
    assert audit.verify().first_bad_seq == 1
