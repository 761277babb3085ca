"""Evidence: recorded by the team leader, audited, checked on upload, locked while under review, and a
return sends back only the failed items."""
import os

import pytest

import engine
from engine.chain import audit
from engine.actions.evidence import MAX_FILE_BYTES, upload_dir
from models import AuditRecord, Attachment, Evidence, Participation, Requirement

from scenarios import participation_in


def first_requirement(stage='popularization'):
    return Requirement.select().where(Requirement.stage == stage).order_by(Requirement.position).first()


def test_text_and_file_are_recorded_and_audited(world):
    part = participation_in(world, 'in_progress')
    req = first_requirement()
    engine.record_evidence(part, req.id, world.leader1, text='愿景：安全高效', add_files=[('../../愿景.pdf', b'%PDF-1')])
    evidence = Evidence.get(Evidence.requirement == req)
    attachment = Attachment.get(Attachment.evidence == evidence)
    assert evidence.text == '愿景：安全高效'
    assert attachment.filename == '愿景.pdf' and attachment.size == 6
    assert os.path.exists(os.path.join(upload_dir(), attachment.sha256))
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    assert last.event == 'edit_evidence' and last.payload['added'][0]['filename'] == '愿景.pdf'
    assert audit.verify().ok


@pytest.mark.parametrize('name,data,message', [
    ('virus.exe', b'MZ', '不支持的文件类型'),
    ('noext', b'x', '不支持的文件类型'),
    ('big.pdf', b'0' * (MAX_FILE_BYTES + 1), '文件过大'),
    ('empty.pdf', b'', '文件为空'),
    ('../..', b'x', '文件名无效'),
])
def test_bad_uploads_are_refused(world, name, data, message):
    part = participation_in(world, 'in_progress')
    before = AuditRecord.select().count()
    with pytest.raises(engine.BadInput, match=message):
        engine.record_evidence(part, first_requirement().id, world.leader1, add_files=[(name, data)])
    assert AuditRecord.select().count() == before and Attachment.select().count() == 0


def test_only_the_team_leader_records_evidence(world):
    part = participation_in(world, 'in_progress')
    for who in (world.chair1, world.leader3, world.staff, world.auditor):
        with pytest.raises(engine.NotPermitted):
            engine.record_evidence(part, first_requirement().id, who, text='x')


def test_requirement_must_be_of_the_current_stage(world):
    part = participation_in(world, 'in_progress')
    with pytest.raises(engine.NotFound):
        engine.record_evidence(part, first_requirement('consolidation').id, world.leader1, text='x')


def test_return_sends_back_only_failed_items_and_keeps_the_rest_locked(world):
    part = participation_in(world, 'in_progress')
    part = engine.fire(part, 'submit_stage', world.leader1)
    with pytest.raises(engine.InvalidTransition, match='锁定'):
        engine.record_evidence(part, first_requirement().id, world.leader1, text='改')
    failed = first_requirement()
    part = engine.fire(part, 'return_stage', world.chair1, reason='愿景需全员讨论',
                       payload={'requirement_ids': [failed.id], 'comments': {str(failed.id): '请补充讨论记录'}})
    statuses = {e.requirement_id: (e.status, e.review_comment) for e in Evidence.select()}
    assert statuses.pop(failed.id) == ('returned', '请补充讨论记录')
    assert {s for s, _ in statuses.values()} == {'accepted'}
    other = next(iter(statuses))
    with pytest.raises(engine.InvalidTransition, match='已验收'):
        engine.record_evidence(part, other, world.leader1, text='改')
    engine.record_evidence(part, failed.id, world.leader1, text='补充了全员讨论记录')
    part = engine.fire(Participation.get_by_id(part.id), 'submit_stage', world.leader1)
    assert Evidence.get(Evidence.requirement == failed).status == 'submitted'
    part = engine.fire(part, 'approve_stage', world.chair1)
    assert {e.status for e in Evidence.select()} == {'accepted'}
    assert part.reached_stage == 'popularization'


def test_return_of_unknown_items_is_bad_input(world):
    part = participation_in(world, 'submitted')
    with pytest.raises(engine.BadInput):
        engine.fire(part, 'return_stage', world.chair1, reason='x', payload={'requirement_ids': [99999]})
    assert Participation.get_by_id(part.id).state == 'submitted'


def test_removing_an_attachment(world):
    part = participation_in(world, 'in_progress')
    req = first_requirement()
    engine.record_evidence(part, req.id, world.leader1, add_files=[('a.png', b'\x89PNG')])
    attachment = Attachment.get()
    engine.record_evidence(part, req.id, world.leader1, remove_attachment_ids=[attachment.id])
    assert Attachment.select().count() == 0
    with pytest.raises(engine.NotFound):
        engine.record_evidence(part, req.id, world.leader1, remove_attachment_ids=[attachment.id])


@pytest.mark.parametrize('kwargs,message', [
    ({'reason': 'x' * 2001}, '理由过长'),
    ({'reason': 42}, '理由应为文字'),
    ({'payload': {'requirement_ids': 'all'}}, '附加数据有误'),
    ({'payload': ['not', 'a', 'dict']}, '格式错误'),
    ({'payload': {'surprise': 1}}, '附加数据有误'),
])
def test_bad_event_input(world, kwargs, message):
    part = participation_in(world, 'submitted')
    kwargs.setdefault('reason', '退回')
    with pytest.raises(engine.BadInput, match=message):
        engine.fire(part, 'return_stage', world.chair1, **kwargs)


def test_event_without_payload_refuses_one(world):
    part = participation_in(world, 'requested')
    with pytest.raises(engine.BadInput, match='不接受附加数据'):
        engine.fire(part, 'approve_enrolment', world.chair1, payload={'x': 1})
