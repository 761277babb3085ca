"""Who may fire what: every transition × every kind of person, relative to team 装卸一班 (一分会, 货运处)."""
import pytest

import engine
import workflows
from models import Member, Unit

from scenarios import inputs_for, make, participation_in, application_in

EVERYONE = ['leader1', 'chair1', 'secretary1', 'leader3', 'chair2', 'secretary2', 'staff', 'staff2', 'auditor',
            'other_leader', 'other_staff', 'system']
IN_UNIT = {'leader1', 'chair1', 'secretary1', 'leader3', 'chair2', 'secretary2', 'staff', 'staff2'}
UNION = {'staff', 'staff2'}
LEADER_EVENTS = {'resubmit_enrolment', 're_enrol', 'submit_stage', 'start_next_stage', 'withdraw', 'submit'}


def permitted(workflow, event, state):
    """The product rules (SPEC §2), written out by hand rather than read from the definitions."""
    if event in LEADER_EVENTS:
        return {'leader1'}
    if workflow == 'campaign':
        return UNION
    if event in ('cosign_stage', 'decline_cosign'):
        return {'secretary1'} | UNION
    if event == 'lodge_objection':
        return IN_UNIT
    if event == 'close_notice':
        return {'system'} | UNION
    branch_review = {'chair1'} | UNION           # union staff step in as an override
    if workflow == 'participation':
        return branch_review
    if workflow == 'application':
        return branch_review if state == 'submitted' else UNION
    return UNION if event == 'publish' else branch_review


TRANSITIONS = [(wf.name, t.sources[0], t.event) for wf in workflows.LATEST.values() for t in wf.transitions
               if not t.route_if]
CASES = [(wf, state, event, who) for wf, state, event in TRANSITIONS for who in EVERYONE]


@pytest.mark.parametrize('workflow_name,state,event,who', CASES)
def test_permission_matrix(world, workflow_name, state, event, who):
    record = make(world, workflow_name, state, event)
    actor = getattr(world, who)
    if who in permitted(workflow_name, event, state):
        assert engine.fire(record, event, actor, **inputs_for(world, event)).version == record.version + 1
    else:
        with pytest.raises(engine.NotPermitted):
            engine.fire(record, event, actor, **inputs_for(world, event))
        assert type(record).get_by_id(record.id).state == state


def test_union_override_needs_a_reason(world):
    part = participation_in(world, 'requested')
    with pytest.raises(engine.BadInput, match='理由'):
        engine.fire(part, 'approve_enrolment', world.staff)
    assert engine.fire(part, 'approve_enrolment', world.chair1).state == 'in_progress'


def test_override_is_recorded_in_the_audit(world):
    from models import AuditRecord
    part = participation_in(world, 'requested')
    engine.fire(part, 'approve_enrolment', world.staff, reason='分会主席出差，代为审批')
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    assert last.payload['override'] is True and last.actor_role == 'union_staff'


def test_chair_never_approves_own_team(world):
    part = participation_in(world, 'requested', team=world.t2, leader=world.chair1)
    with pytest.raises(engine.NotPermitted, match='本人所在班组'):
        engine.fire(part, 'approve_enrolment', world.chair1)


def test_chairs_own_team_goes_to_party_secretary(world):
    part = participation_in(world, 'requested', team=world.t2, leader=world.chair1)
    assert engine.fire(part, 'approve_enrolment', world.secretary1).state == 'in_progress'


def test_secretary_cannot_review_other_teams(world):
    part = participation_in(world, 'requested')
    with pytest.raises(engine.NotPermitted):
        engine.fire(part, 'approve_enrolment', world.secretary1)


def test_unit_can_route_chairs_own_team_to_union_staff(world):
    Unit.update(settings={'chair_team_reviewer': 'union_staff'}).execute()
    part = participation_in(world, 'requested', team=world.t2, leader=world.chair1)
    with pytest.raises(engine.NotPermitted):
        engine.fire(part, 'approve_enrolment', world.secretary1)
    # routed to the union: no override, so no reason needed
    assert engine.fire(part, 'approve_enrolment', world.staff).state == 'in_progress'


def test_member_of_team_cannot_review_it_even_as_union_staff(world):
    Member.create(team=world.t1, name='吴干事', user=world.staff2)
    app = application_in(world, 'recommended', event='approve')
    with pytest.raises(engine.NotPermitted, match='本人所在班组'):
        engine.fire(app, 'approve', world.staff2)
    assert engine.fire(app, 'approve', world.staff).state == 'approved'


def test_secretary_cosigns_when_unit_asks(world):
    Unit.update(settings={'secretary_cosigns_stages': True}).execute()
    part = participation_in(world, 'submitted')
    part = engine.fire(part, 'approve_stage', world.chair1)
    assert part.state == 'awaiting_cosign' and part.reached_stage is None
    with pytest.raises(engine.NotPermitted):
        engine.fire(part, 'cosign_stage', world.chair1)
    part = engine.fire(part, 'cosign_stage', world.secretary1)
    assert (part.state, part.reached_stage) == ('stage_reached', 'popularization')


def test_inactive_user_may_do_nothing(world):
    world.chair1.active = False
    world.chair1.save()
    part = participation_in(world, 'requested')
    with pytest.raises(engine.NotPermitted):
        engine.fire(part, 'approve_enrolment', world.chair1)


def test_create_is_permission_checked(world):
    world.launch()
    for who in ('leader3', 'chair1', 'staff', 'auditor', 'other_leader'):
        with pytest.raises(engine.NotPermitted):
            engine.create('participation', getattr(world, who), {'team_id': world.t1.id,
                                                                 'campaign_id': world.campaign.id})
    with pytest.raises(engine.NotPermitted):
        engine.create('campaign', world.other_staff, {'unit_id': world.unit.id, 'title': 'x', 'period': '2028'})
