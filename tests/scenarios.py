"""Test set-up: put an object of any workflow into any state with every guard of a given event satisfied,
plus the actor and input each event needs."""
import datetime

import engine
from models import CommendationDecision, Objection, Participation, Requirement, Score
from workflows.settings import DEFAULT_SETTINGS

from conftest import set_state

LONG_AGO = datetime.datetime(2020, 1, 1)
FULL_SCORES = {'criteria': {c['code']: c['max'] - 2 for c in DEFAULT_SETTINGS['rubric']}}


def participation_in(world, state, stage='popularization', team=None, leader=None):
    if world.campaign.state == 'draft':
        world.launch()
    part = world.enrol(team, leader)
    for req in Requirement.select().where(Requirement.campaign == world.campaign, Requirement.stage == stage,
                                          Requirement.active == True):  # noqa: E712
        part = set_state(part, 'in_progress', stage=stage)
        engine.record_evidence(part, req.id, leader or world.leader1, text=f'材料：{req.title_zh}')
    return set_state(Participation.get_by_id(part.id), state, stage=stage)


def application_in(world, state, event=None, tier='excellent_team', team=None, leader=None):
    participation_in(world, 'stage_reached', stage='consolidation', team=team, leader=leader)
    Participation.update(reached_stage='consolidation').execute()
    app = engine.create('application', leader or world.leader1,
                        {'team_id': (team or world.t1).id, 'campaign_id': world.campaign.id, 'year': 2026,
                         'tier': tier, 'statement': '申报材料'})
    fields = {}
    if event in ('approve', 'downgrade'):
        for judge in (world.staff, world.staff2):
            Score.create(application=app, judge=judge, criteria=FULL_SCORES['criteria'], total=90)
    if event in ('dismiss_objection', 'uphold_objection'):
        Objection.create(application=app, lodged_by=world.leader3, text='材料不实')
    if event == 'close_notice':
        fields['notice_ends_at'] = LONG_AGO
    return set_state(app, state, **fields)


def innovation_in(world, state, team=None, leader=None):
    result = engine.create('innovation', leader or world.leader1,
                           {'team_id': (team or world.t1).id, 'campaign_id': world.campaign.id, 'year': 2025,
                            'title': '装车效率提升', 'topic': 'efficiency', 'summary': '缩短装车时间'})
    return set_state(result, state)


def campaign_in(world, state):
    return set_state(world.campaign, state)


def make(world, workflow, state, event=None):
    if workflow == 'campaign':
        return campaign_in(world, state)
    if workflow == 'participation':
        return participation_in(world, state)
    if workflow == 'application':
        return application_in(world, state, event)
    return innovation_in(world, state)


LEADER_EVENTS = {'resubmit_enrolment', 're_enrol', 'submit_stage', 'start_next_stage', 'withdraw', 'submit'}
UNION_EVENTS = {'launch', 'advance', 'close', 'score', 'downgrade', 'publish_notice', 'dismiss_objection',
                'uphold_objection', 'commend', 'revoke', 'publish'}
BRANCH_EVENTS_OF_APPLICATION = {'recommend', 'return', 'reject'}


def actor_for(world, workflow, event, state):
    """A person who may fire `event` from `state` on objects of team 装卸一班 (by the product rules)."""
    if event in LEADER_EVENTS:
        return world.leader1
    if workflow == 'campaign' or event in UNION_EVENTS:
        return world.staff
    if workflow == 'application' and (state == 'recommended' or event not in BRANCH_EVENTS_OF_APPLICATION):
        if event not in ('lodge_objection', 'close_notice'):
            return world.staff
    if event in ('cosign_stage', 'decline_cosign'):
        return world.secretary1
    if event == 'lodge_objection':
        return world.leader3
    if event == 'close_notice':
        return world.system
    return world.chair1


def inputs_for(world, event):
    """reason, payload and override for `event` that satisfy its required fields."""
    payload = None
    if event == 'score':
        payload = dict(FULL_SCORES)
    elif event == 'downgrade':
        payload = {'tier': 'learning_team'}
    elif event in ('dismiss_objection', 'uphold_objection'):
        payload = {'objection_id': Objection.select().order_by(Objection.id.desc()).first().id}
    elif event == 'commend':
        decision = CommendationDecision.create(unit=world.unit, year=2026, doc_number=f'货工〔2026〕{event}号',
                                               title='关于表彰学习型班组的决定')
        payload = {'decision_id': decision.id}
    return {'reason': '测试理由', 'payload': payload, 'override': True}
