"""Every guard refuses with a reason a person can act on, and GuardFailed lists every failed guard."""
import datetime

import pytest

import engine
from engine import clock
from engine.rules.guards import GUARDS
from models import Application, Campaign, CommendationDecision, Evidence, Objection, Participation, Requirement, Team

from conftest import set_state
from scenarios import FULL_SCORES, application_in, innovation_in, participation_in

TESTED = set()


def refused(guard, record, event, actor, **kw):
    """Fire and expect a GuardFailed naming `guard`; return its Chinese text."""
    TESTED.add(guard)
    with pytest.raises(engine.GuardFailed) as info:
        engine.fire(record, event, actor, **kw)
    by_guard = {r.guard: r for r in info.value.reasons}
    assert guard in by_guard, info.value.reasons
    assert by_guard[guard].en
    return by_guard[guard].zh


def test_launch_needs_requirements_for_every_stage(world):
    Requirement.update(active=False).where(Requirement.stage == 'innovation').execute()
    assert '创新发展阶段' in refused('has_requirements_for_every_stage', world.campaign, 'launch', world.staff)


def test_advance_needs_the_stage_target_and_can_be_overridden(world):
    world.launch()
    participation_in(world, 'in_progress')                     # 1 of 3 teams: 33 %
    text = refused('is_stage_target_met', world.campaign, 'advance', world.staff)
    assert '50%' in text and '货运处参与率33%（1/3）' in text and '二分会参与率0%（0/1）' in text
    with pytest.raises(engine.BadInput, match='理由'):
        engine.fire(world.campaign, 'advance', world.staff, override=True)
    campaign = engine.fire(world.campaign, 'advance', world.staff, override=True, reason='按计划推进')
    assert campaign.state == 'consolidation'


def test_advance_passes_when_every_branch_meets_the_target(world):
    world.launch()
    participation_in(world, 'in_progress')
    participation_in(world, 'in_progress', team=world.t3, leader=world.leader3)   # 一分会 1/2, 二分会 1/1
    assert engine.fire(world.campaign, 'advance', world.staff).state == 'consolidation'


def test_enrol_needs_a_running_campaign(world):
    TESTED.add('is_campaign_running')
    with pytest.raises(engine.GuardFailed, match='未在进行中'):
        world.enrol()


def test_submit_reports_every_failed_guard(world):
    part = participation_in(world, 'in_progress', stage='consolidation')
    Evidence.delete().where(Evidence.requirement.in_(
        Requirement.select(Requirement.id).where(Requirement.code == 'communication'))).execute()
    with pytest.raises(engine.GuardFailed) as info:
        engine.fire(part, 'submit_stage', world.leader1)
    assert {r.guard for r in info.value.reasons} == {'has_campaign_reached_stage', 'has_evidence_for_every_requirement'}
    assert '尚未进入巩固提高阶段' in refused('has_campaign_reached_stage', part, 'submit_stage', world.leader1)
    assert '交流沟通机制' in refused('has_evidence_for_every_requirement', part, 'submit_stage', world.leader1)


def test_last_stage_has_no_next(world):
    part = participation_in(world, 'stage_reached', stage='innovation')
    assert '最后一个阶段' in refused('has_next_stage', part, 'start_next_stage', world.leader1)


def test_application_window(world):
    Campaign.update(settings={'application_window': ['2026-12-01', '2026-12-31']}).execute()
    app = application_in(world, 'draft')
    clock.set_now(datetime.datetime(2026, 11, 30, 12))
    try:
        assert '2026-12-01' in refused('is_application_window_open', app, 'submit', world.leader1)
        clock.set_now(datetime.datetime(2026, 12, 1, 1))
        assert engine.fire(app, 'submit', world.leader1).state == 'submitted'
    finally:
        clock.set_now(None)


def test_eligibility_by_stage_or_earlier_title(world):
    app = application_in(world, 'draft', tier='model_team')
    assert '创新发展阶段' in refused('is_eligible_for_tier', app, 'submit', world.leader1)
    earlier = engine.create('application', world.leader1, {'team_id': world.t1.id, 'campaign_id': world.campaign.id,
                                                          'year': 2025, 'tier': 'excellent_team'})
    set_state(earlier, 'commended')
    assert engine.fire(app, 'submit', world.leader1).state == 'submitted'


def test_learning_team_needs_popularization_reached(world):
    app = application_in(world, 'draft', tier='learning_team')
    Participation.update(reached_stage=None).execute()
    assert '普及阶段' in refused('is_eligible_for_tier', app, 'submit', world.leader1)


def test_score_sheet_must_match_the_rubric(world):
    app = application_in(world, 'recommended')
    text = refused('is_rubric_complete', app, 'score', world.staff, payload={'criteria': {'organisation': 25}})
    assert '学习培训未评分' in text and '组织领导应在0–20分之间' in text
    app = engine.fire(app, 'score', world.staff, payload=FULL_SCORES)
    assert app.total_score == 92   # 18 + 28 + 28 + 18


def test_approval_needs_enough_judges(world):
    app = application_in(world, 'recommended')
    engine.fire(app, 'score', world.staff, payload=FULL_SCORES)
    assert '至少2位评委' in refused('has_enough_scores', Application.get_by_id(app.id), 'approve', world.staff)


def test_tier_quota(world):
    Campaign.update(settings={'quotas': {'excellent_team': 1}}).execute()
    other = application_in(world, 'approved', team=world.t3, leader=world.leader3)
    assert other.state == 'approved'
    app = application_in(world, 'recommended', event='approve')
    assert '名额已满' in refused('is_within_tier_quota', app, 'approve', world.staff)
    # downgrading to a tier with room left passes
    assert engine.fire(app, 'downgrade', world.staff, reason='名额限制', payload={'tier': 'learning_team'}).tier == \
        'learning_team'


def test_downgrade_must_lower_the_tier(world):
    app = application_in(world, 'recommended', event='approve', tier='learning_team')
    assert '更低' in refused('is_lower_tier', app, 'downgrade', world.staff, reason='x',
                            payload={'tier': 'excellent_team'})


def test_objection_must_be_open(world):
    app = application_in(world, 'publicized', event='dismiss_objection')
    objection = Objection.get()
    app = engine.fire(app, 'dismiss_objection', world.staff, reason='经核实不成立', payload={'objection_id': objection.id})
    assert '已处理' in refused('is_objection_open', app, 'uphold_objection', world.staff, reason='x',
                             payload={'objection_id': objection.id})


def test_notice_closes_only_after_its_period_and_without_open_objections(world):
    app = application_in(world, 'approved')
    app = engine.fire(app, 'publish_notice', world.staff)
    assert app.notice_ends_at > clock.now()
    assert '公示期尚未结束' in refused('is_notice_period_over', app, 'close_notice', world.system)
    app = engine.fire(app, 'lodge_objection', world.leader3, reason='该班组材料有误')
    Application.update(notice_ends_at=datetime.datetime(2020, 1, 1)).execute()
    app = Application.get_by_id(app.id)
    assert '1条异议未处理' in refused('has_no_open_objections', app, 'close_notice', world.system)


def test_commendation_decision_must_be_of_the_unit_and_year(world):
    app = application_in(world, 'notice_closed')
    wrong = CommendationDecision.create(unit=world.other_unit, year=2026, doc_number='客工〔2026〕1号', title='x')
    assert '不属于本单位' in refused('is_decision_of_unit', app, 'commend', world.staff,
                                  payload={'decision_id': wrong.id})


def test_innovation_needs_a_summary(world):
    result = innovation_in(world, 'draft')
    result.summary = ''
    result.save()
    assert '成果简介' in refused('has_result_summary', result, 'submit', world.leader1)


def test_innovation_published_only_from_release_date(world):
    result = innovation_in(world, 'approved')
    clock.set_now(datetime.datetime(2025, 10, 31, 23))
    try:
        assert '2025-11-01' in refused('is_release_date_reached', result, 'publish', world.staff)
    finally:
        clock.set_now(None)


def test_team_exists_check_on_create(world):
    world.launch()
    with pytest.raises(engine.NotFound):
        engine.create('participation', world.leader1, {'team_id': 9999, 'campaign_id': world.campaign.id})
    assert Team.select().count() == 4


def test_every_guard_has_a_test():
    # Runs last in this module (pytest keeps file order).
    assert TESTED == set(GUARDS), set(GUARDS) - TESTED
