"""Every event of every machine, fired from every state: allowed ones land in their destination with one
audit record; the others are refused as invalid in that state and change nothing."""
import pytest

import engine
import workflows
from engine.chain import audit
from models import AuditRecord

from scenarios import actor_for, inputs_for, make

CASES = [(wf.name, state, event) for wf in workflows.LATEST.values()
         for state in wf.state_names for event in wf.events]


def expected_dest(workflow, state, event):
    candidates = workflow.candidates(state, event)
    if not candidates:
        return None
    # the demo unit does not ask for co-signatures, so routed approvals take the non-co-sign branch
    return [t for t in candidates if not t.route_if][0].dest


@pytest.mark.parametrize('workflow_name,state,event', CASES)
def test_every_event_from_every_state(world, workflow_name, state, event):
    workflow = workflows.get(workflow_name)
    record = make(world, workflow_name, state, event)
    actor = actor_for(world, workflow_name, event, state)
    before = AuditRecord.select().count()
    dest = expected_dest(workflow, state, event)
    if dest is None:
        with pytest.raises(engine.InvalidTransition):
            engine.fire(record, event, actor, **inputs_for(world, event))
        assert type(record).get_by_id(record.id).state == state
        assert AuditRecord.select().count() == before
        return
    fired = engine.fire(record, event, actor, **inputs_for(world, event))
    stored = type(record).get_by_id(record.id)
    assert fired.state == stored.state == dest
    assert stored.version == record.version + 1
    last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
    assert AuditRecord.select().count() == before + 1
    assert (last.event, last.from_state, last.to_state, last.object_id) == (event, state, dest, record.id)
    assert last.actor_id == actor.id
    assert audit.verify().ok


def test_machines_have_no_back_doors():
    from engine.door.machines import machine_for
    for (name, version) in workflows.DEFINITIONS:
        machine = machine_for(name, version)
        assert not any(trigger.startswith('to_') for trigger in machine.events)
        assert set(machine.events) == set(workflows.get(name, version).events)


def test_unknown_event_is_refused(world):
    with pytest.raises(engine.InvalidTransition, match='未知操作'):
        engine.fire(world.campaign, 'explode', world.staff)


def test_stage_cycle_moves_to_next_stage(world):
    from scenarios import participation_in
    part = participation_in(world, 'stage_reached')
    part = engine.fire(part, 'start_next_stage', world.leader1)
    assert (part.state, part.stage) == ('in_progress', 'consolidation')


def test_permission_is_checked_on_the_route_that_fires(world, monkeypatch):
    """Two routes of one event with different rules: the machine chooses the route first, and only the rule of
    the transition that will actually fire decides (it used to be the first candidate's rule)."""
    import copy
    from engine.door import machines
    from engine.errors import NotPermitted
    from workflows import participation as definition
    from workflows.definition import Workflow
    from workflows.rules import UNION
    from scenarios import participation_in
    raw = copy.deepcopy(definition.DEFINITION)
    raw['version'] = 99
    for t in raw['transitions']:
        if t['event'] == 'approve_stage' and t.get('route_unless') == 'needs_cosign':
            t['allowed'] = [UNION]                    # the route taken here: union staff only
    variant = Workflow.from_dict(raw)
    monkeypatch.setitem(workflows.DEFINITIONS, ('participation', 99), variant)
    machines.machine_for.cache_clear()
    try:
        part = participation_in(world, 'submitted')
        type(part).update(workflow_version=99).where(type(part).id == part.id).execute()
        part = type(part).get_by_id(part.id)
        with pytest.raises(NotPermitted):
            engine.fire(part, 'approve_stage', world.chair1)
        assert type(part).get_by_id(part.id).state == 'submitted'
        assert engine.fire(part, 'approve_stage', world.staff).state == 'stage_reached'
    finally:
        machines.machine_for.cache_clear()
