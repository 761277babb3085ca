"""Stage requirements are data union staff edit (audited); records move to a new definition only by an
explicit, audited migration."""
import copy

import pytest

import engine
import workflows
from engine.chain import audit
from engine.actions.checklist import add_requirement, update_requirement
from engine.door.machines import machine_for
from engine.actions.migration import migrate_records
from models import AuditRecord, Participation, Requirement
from workflows import participation
from workflows.definition import Workflow

from scenarios import participation_in


def test_union_staff_edit_and_retire_a_requirement(world):
    req = Requirement.get(Requirement.code == 'bulletin_board')
    update_requirement(world.campaign, req.id, world.staff, {'title_zh': '一块"创争"宣传栏（含电子屏）'},
                       reason='结合实际')
    assert Requirement.get_by_id(req.id).title_zh == '一块"创争"宣传栏（含电子屏）'
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    assert last.event == 'edit_requirement' and last.payload['before']['title_zh'] == '一个"创争"宣传栏'
    update_requirement(world.campaign, req.id, world.staff, {'active': False})
    world.launch()
    part = participation_in(world, 'in_progress')
    with pytest.raises(engine.NotFound):
        engine.record_evidence(part, req.id, world.leader1, text='x')
    assert audit.verify().ok


def test_added_requirement_must_be_evidenced_before_submitting(world):
    part = participation_in(world, 'in_progress')
    add_requirement(world.campaign, world.staff, {'stage': 'popularization', 'code': 'safety_talk',
                                                 'title_zh': '一次安全学习讲评', 'title_en': 'A safety review'})
    with pytest.raises(engine.GuardFailed, match='一次安全学习讲评'):
        engine.fire(Participation.get_by_id(part.id), 'submit_stage', world.leader1)


@pytest.mark.parametrize('who', ['leader1', 'chair1', 'auditor', 'other_staff'])
def test_only_union_staff_of_the_unit_edit_requirements(world, who):
    req = Requirement.select().first()
    with pytest.raises(engine.NotPermitted):
        update_requirement(world.campaign, req.id, getattr(world, who), {'title_zh': 'x'})


@pytest.mark.parametrize('changes,message', [
    ({}, '没有要修改'), ({'title_zh': ''}, '有误'), ({'evidence_kind': 'video'}, '有误'), ({'unknown': 1}, '有误')])
def test_bad_requirement_changes(world, changes, message):
    req = Requirement.select().first()
    with pytest.raises(engine.BadInput, match=message):
        update_requirement(world.campaign, req.id, world.staff, changes)


def test_duplicate_code_is_refused(world):
    with pytest.raises(engine.BadInput, match='shared_vision'):
        add_requirement(world.campaign, world.staff, {'stage': 'popularization', 'code': 'shared_vision',
                                                     'title_zh': 'x', 'title_en': 'x'})


@pytest.fixture
def version_two():
    raw = copy.deepcopy(participation.DEFINITION)
    raw['version'] = 2
    for state in raw['states']:
        if state['name'] == 'requested':
            state['name'] = 'enrolment_requested'
    for t in raw['transitions']:
        sources = t['source'] if isinstance(t['source'], list) else [t['source']]
        t['source'] = ['enrolment_requested' if s == 'requested' else s for s in sources]
        if t['dest'] == 'requested':
            t['dest'] = 'enrolment_requested'
    raw['initial'] = 'enrolment_requested'
    workflows.DEFINITIONS[('participation', 2)] = Workflow.from_dict(raw)
    yield
    del workflows.DEFINITIONS[('participation', 2)]
    machine_for.cache_clear()


def test_records_keep_their_version_until_migrated(world, version_two):
    part = participation_in(world, 'requested')
    assert part.workflow_version == 1
    with pytest.raises(engine.BadInput, match='理由'):
        migrate_records('participation', 2, reason='')
    moved = migrate_records('participation', 2, state_map={'requested': 'enrolment_requested'},
                            reason='流程调整：报名状态更名')
    assert moved == 1
    part = Participation.get_by_id(part.id)
    assert (part.state, part.workflow_version) == ('enrolment_requested', 2)
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    assert (last.event, last.from_state, last.to_state) == ('migrate_workflow', 'requested', 'enrolment_requested')
    assert engine.fire(part, 'approve_enrolment', world.chair1).state == 'in_progress'
    assert audit.verify().ok


def test_migration_without_a_place_for_a_state_changes_nothing(world, version_two):
    part = participation_in(world, 'requested')
    with pytest.raises(engine.BadInput, match="'requested' has no place"):
        migrate_records('participation', 2, reason='试迁移')
    assert Participation.get_by_id(part.id).workflow_version == 1
