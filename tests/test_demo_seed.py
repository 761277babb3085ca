"""The demo seed: loaded entirely through the engine, its history verifies and it shows every state."""
import click
import pytest

import workflows
from engine import clock
from engine.chain import audit
from models import (ROLES, Application, AuditRecord, Campaign, InnovationResult, Participation, RoleAssignment,
                    Team, Unit, User)
from cli import demo


def last_audit(object_type, object_id):
    return (AuditRecord.select().where(AuditRecord.object_type == object_type, AuditRecord.object_id == object_id)
            .order_by(AuditRecord.seq.desc()).first())


def test_demo_seed(db):
    summary = demo.seed()
    assert summary.startswith('货运处: 4 branches, 40 teams')
    assert clock._override is None                       # the engine clock is real time again

    result = audit.verify()
    assert result.ok, result.problems
    assert result.checked == AuditRecord.select().count() > 500

    campaign = Campaign.get()
    assert campaign.state == 'consolidation'

    for object_type, model in (('application', Application), ('innovation', InnovationResult)):
        states = {r.state for r in model.select(model.state)}
        missing = set(workflows.get(object_type).state_names) - states
        assert not missing, f'{object_type} states missing from the demo: {missing}'

    participation_states = {p.state for p in Participation.select()}
    assert {'requested', 'enrolment_returned', 'rejected', 'withdrawn', 'in_progress', 'submitted',
            'awaiting_cosign', 'stage_returned', 'stage_reached'} <= participation_states
    assert Participation.select().where(Participation.reached_stage == 'consolidation').count() >= 3

    for role in ROLES:
        assert RoleAssignment.select().where(RoleAssignment.role == role).exists(), role
    # a chair leads a team too, so that team's reviews went to the party secretary
    chairs = RoleAssignment.select(RoleAssignment.user).where(RoleAssignment.role == 'branch_chair')
    chair_leaders = RoleAssignment.select().where(RoleAssignment.role == 'team_leader', RoleAssignment.user.in_(chairs))
    assert chair_leaders.exists()
    assert AuditRecord.select().where(AuditRecord.actor_role == 'party_secretary',
                                      AuditRecord.event == 'approve_enrolment').exists()
    assert AuditRecord.select().where(AuditRecord.actor_role == 'system', AuditRecord.event == 'close_notice').exists()

    # every record's state is where its history says it went
    for object_type, model in (('participation', Participation), ('application', Application),
                               ('innovation', InnovationResult), ('campaign', Campaign)):
        for record in model.select():
            assert last_audit(object_type, record.id).to_state == record.state, (object_type, record.id)

    # the history lies between March 2025 and 20 November 2026, in order
    times = [r.occurred_at for r in AuditRecord.select(AuditRecord.occurred_at).order_by(AuditRecord.seq)]
    assert times == sorted(times)
    assert str(times[0]) >= '2025-03' and str(times[-1]) <= '2026-11-20 23:59'

    # the same password for everyone but the system user
    users = list(User.select().where(User.is_system == False))  # noqa: E712
    assert len({u.password_hash for u in users}) == 1
    assert Team.select().count() == 40 and Unit.select().count() == 1

    with pytest.raises(click.ClickException):
        demo.seed()                                     # only into an empty database
