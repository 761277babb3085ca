"""An object one may not see does not exist, as far as one can tell (issue 9, item 6): a team leader probing the
ids of other teams' objects, of other branches, units and campaigns, gets byte for byte the answer they get for
ids that exist nowhere — status, content type and body, the probed id and the request's own path aside (a page
repeats its path in the language switch, an error names the id asked for) and the CSRF token, which differs per
request. Every route that names an object is probed: pages, history, diagrams, evidence, attachment downloads,
events, creating records for a team, in the UI and the JSON API, reading and writing — with input that is
otherwise valid, and with input a later check would refuse (a disagreeing If-Match), which must not be
reached before the object is found. Someone who may see an object but not act on it still gets 403.

The full who × route × object matrix (tests/test_authz_matrix.py) expects 404 wherever the person may not see
the object; this module checks that those 404s also say nothing more than a missing object's."""
import io
import re

import pytest

import engine
from engine.organisation import tokens
from models import Attachment, Evidence, Participation, Requirement

from conftest import set_state
from scenarios import application_in, innovation_in
from web_fixtures import app, site  # noqa: F401  (fixtures)

MISSING = 99999
CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def scene(site):
    """leader1 (装卸一班) and, out of their sight, 调度班 (another branch) and 售票班 (another unit) with records,
    evidence and an attachment; the campaigns of both units (a leader sees no campaign page)."""
    world = site.world
    world.launch()
    other_campaign = engine.fire(engine.create('campaign', world.other_staff, {
        'unit_id': world.other_unit.id, 'title': '创建学习型班组活动', 'period': '2025-2027'}), 'launch',
        world.other_staff)
    application = application_in(world, 'submitted', team=world.t3, leader=world.leader3)
    part = set_state(Participation.get(Participation.team == world.t3), 'in_progress', stage='popularization')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    engine.record_evidence(part, requirement.id, world.leader3, text='愿景', add_files=[('愿景.pdf', b'%PDF-1.4 t3')])
    attachment = Attachment.select().join(Evidence).where(Evidence.participation == part.id).get()
    requested = engine.create('participation', world.other_leader, {'team_id': world.ot.id,
                                                                      'campaign_id': other_campaign.id})
    hidden = {
        'team': [world.t3.id, world.ot.id], 'branch': [world.b2.id, world.ob.id],
        'participation': [part.id, requested.id],
        'application': [application.id],
        'innovation': [innovation_in(world, 'draft', team=world.t3, leader=world.leader3).id],
        'campaign': [world.campaign.id, other_campaign.id], 'attachment': [attachment.id],
    }
    secret = tokens.create_token(world.leader1, 'probe')[1]
    return {'world': world, 'hidden': hidden, 'requirement': requirement.id, 'other_campaign': other_campaign.id,
            'ui': site.client('leader1'), 'api': {'Authorization': f'Bearer {secret}'}}


def form_file():
    return {'file': (io.BytesIO(b'%PDF-1.4 probe'), 'probe.pdf')}


# (kind of object probed, method, path with {id}, request keywords) — {req}: a requirement of 货运处's campaign
UI = [
    ('team', 'GET', '/teams/{id}', {}),
    ('branch', 'GET', '/branches/{id}', {}),
    ('participation', 'GET', '/objects/participation/{id}', {}),
    ('application', 'GET', '/objects/application/{id}', {}),
    ('innovation', 'GET', '/objects/innovation/{id}', {}),
    ('campaign', 'GET', '/objects/campaign/{id}', {}),
    ('attachment', 'GET', '/attachments/{id}', {}),
    ('campaign', 'GET', '/campaigns/{id}', {}),
    ('campaign', 'GET', '/campaigns/{id}/evaluation', {}),
    ('campaign', 'GET', '/campaigns/{id}/commendations', {}),
    ('campaign', 'GET', '/campaigns/{id}/export.xlsx', {}),
    ('participation', 'POST', '/act/participation/{id}', {'data': {'event': 'submit_stage', 'version': '2'}}),
    ('participation', 'POST', '/act/participation/{id}', {'data': {'event': 'no_such_event', 'version': 'x'}}),
    ('application', 'POST', '/act/application/{id}', {'data': {'event': 'recommend', 'version': '1'}}),
    ('campaign', 'POST', '/act/campaign/{id}', {'data': {'event': 'close', 'version': '1', 'reason': '结束'}}),
    ('team', 'POST', '/teams/{id}/enrol', {'data': {}}),
    ('team', 'POST', '/teams/{id}/applications', {'data': {'campaign_id': '{campaign}', 'year': '2026',
                                                            'tier': 'learning_team', 'statement': '申报'}}),
    ('team', 'POST', '/teams/{id}/innovations', {'data': {'campaign_id': '{campaign}', 'year': '2026',
                                                           'title': '成果', 'topic': 'cost', 'summary': '简介'}}),
    ('participation', 'POST', '/participations/{id}/evidence/{req}', {'data': {'version': '3', 'text': '改'}}),
    ('campaign', 'POST', '/campaigns/{id}/requirements/{req}', {'data': {'version': '2', 'title_zh': '改'}}),
    ('campaign', 'POST', '/campaigns/{id}/commendations', {'data': {'doc_number': 'X', 'title': 'Y', 'year': '2026',
                                                                     'application_ids': '1'}}),
]
API = [
    ('participation', 'GET', '/api/v1/objects/participation/{id}', {}),
    ('participation', 'GET', '/api/v1/objects/participation/{id}/history', {}),
    ('application', 'GET', '/api/v1/objects/application/{id}/actions', {}),
    ('campaign', 'GET', '/api/v1/objects/campaign/{id}/history', {}),
    ('participation', 'GET', '/api/v1/participations/{id}', {}),
    ('application', 'GET', '/api/v1/applications/{id}', {}),
    ('innovation', 'GET', '/api/v1/innovations/{id}', {}),
    ('participation', 'GET', '/api/v1/participations/{id}/evidence/{req}', {}),
    ('attachment', 'GET', '/api/v1/attachments/{id}', {}),
    ('team', 'GET', '/api/v1/teams/{id}', {}),
    ('team', 'GET', '/api/v1/teams/{id}/history', {}),
    ('campaign', 'GET', '/api/v1/campaigns/{id}', {}),
    ('campaign', 'GET', '/api/v1/campaigns/{id}/progress', {}),
    ('participation', 'POST', '/api/v1/objects/participation/{id}/events/submit_stage',
     {'json': {'reason': '试探'}, 'headers': {'If-Match': '"2"'}}),
    ('participation', 'POST', '/api/v1/objects/participation/{id}/events/withdraw',     # If-Match and body disagree
     {'json': {'reason': '试探', 'version': 9}, 'headers': {'If-Match': '"2"'}}),
    ('application', 'POST', '/api/v1/objects/application/{id}/events/launch', {'json': {}}),   # not its event
    ('participation', 'PUT', '/api/v1/participations/{id}/evidence/{req}',
     {'json': {'text': '改'}, 'headers': {'If-Match': '"3"'}}),
    ('participation', 'POST', '/api/v1/participations/{id}/evidence/{req}',
     {'data': 'FILE', 'headers': {'If-Match': '"3"'}}),
    ('campaign', 'POST', '/api/v1/campaigns/{id}/requirements',
     {'json': {'stage': 'popularization', 'code': 'probe', 'title_zh': '试', 'title_en': 'Probe'},
      'headers': {'If-Match': '"2"'}}),
    ('campaign', 'PATCH', '/api/v1/campaigns/{id}/requirements/{req}',
     {'json': {'title_zh': '改'}, 'headers': {'If-Match': '"2"'}}),
    ('campaign', 'POST', '/api/v1/campaigns/{id}/decisions',
     {'json': {'doc_number': 'X', 'title': 'Y', 'year': 2026, 'application_ids': [1]}}),
    ('team', 'POST', '/api/v1/participations', {'json': {'team_id': '{id}', 'campaign_id': '{campaign}'}}),
    ('team', 'POST', '/api/v1/applications', {'json': {'team_id': '{id}', 'campaign_id': '{campaign}', 'year': 2026,
                                                       'tier': 'learning_team', 'statement': '申报'}}),
    ('team', 'POST', '/api/v1/innovations', {'json': {'team_id': '{id}', 'campaign_id': '{campaign}', 'year': 2026,
                                                      'title': '成果', 'topic': 'cost', 'summary': '简介'}}),
]


def _fill(value, values):
    """Put the ids into a request's keywords (strings '{id}' in JSON bodies become numbers)."""
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, str) and re.fullmatch(r'\{\w+\}', value) and value[1:-1] in values:
        return values[value[1:-1]]
    if isinstance(value, str):
        return value.format(**values)
    return value


def send(scene, method, path, kwargs, ident):
    values = {'id': ident, 'req': scene['requirement'], 'campaign': scene['world'].campaign.id}
    path = path.format(**values)
    kwargs = _fill(kwargs, values)
    if kwargs.get('data') == 'FILE':
        kwargs['data'] = form_file()
    if path.startswith('/api/'):
        kwargs['headers'] = {**kwargs.get('headers', {}), **scene['api']}
        response = scene['ui'].application.test_client().open(path, method=method, **kwargs)
    else:
        response = scene['ui'].open(path, method=method, **kwargs)
    return path, response


def answer(path, ident, response):
    """What the prober learns: status, type and body, with the id they asked for and their own path (which the
    page repeats) and the per-request CSRF token taken out."""
    body = CSRF.sub('name="csrf_token" value=""', response.get_data(as_text=True))
    body = body.replace(path, '<path>').replace(f'#{ident} ', '#<id> ')
    return response.status_code, response.mimetype, body


CASES = [(kind, method, path, kwargs) for kind, method, path, kwargs in UI + API]


@pytest.mark.parametrize('kind, method, path, kwargs', CASES, ids=[f'{m} {p}' for _, m, p, _ in CASES])
def test_a_leader_cannot_tell_another_teams_objects_from_missing_ones(scene, kind, method, path, kwargs):
    missing_path, missing = send(scene, method, path, kwargs, MISSING)
    expected = answer(missing_path, MISSING, missing)
    assert expected[0] == 404, (missing_path, expected[0], expected[2][:300])
    for ident in scene['hidden'][kind]:
        probed_path, probed = send(scene, method, path, kwargs, ident)
        assert answer(probed_path, ident, probed) == expected, (kind, ident, probed_path)


def test_another_units_campaign_reads_as_missing_when_enrolling(scene):
    """Enrolling one's own team in another unit's campaign: the campaign does not exist for the leader."""
    world = scene['world']
    api = scene['ui'].application.test_client()
    answers = []
    for campaign_id in (scene['other_campaign'], MISSING):
        response = api.post('/api/v1/participations', headers=scene['api'],
                            json={'team_id': world.t1.id, 'campaign_id': campaign_id})
        answers.append((response.status_code, response.get_json()['message'].replace(f'#{campaign_id} ', '#<id> ')))
    assert answers[0] == answers[1] and answers[0][0] == 404, answers


def test_bulk_approval_reports_a_hidden_item_as_a_missing_one(site, scene):
    """Bulk approval answers each item with a message on the inbox: the same for another branch's item as for an
    item that does not exist (chair1 probing 二分会's participation)."""
    part = set_state(engine.load_object('participation', scene['hidden']['participation'][0]), 'requested')
    chair = site.client('chair1')
    pages = []
    for ident in (part.id, MISSING):
        response = chair.post('/inbox/bulk', data={'items': f'participation:{ident}:{part.version}:approve_enrolment'})
        assert response.status_code == 303
        page = chair.get(response.location)
        pages.append(answer('/inbox', ident, page))
    assert pages[0] == pages[1] and '不存在或您无权查看' in pages[0][2]
    assert engine.load_object('participation', part.id).state == 'requested'


def test_who_may_see_an_object_but_not_act_still_gets_403(site, scene):
    """Not a leak: the secretary of 一分会 reads 装卸一班's enrolment, but approving it is the chair's."""
    world = scene['world']
    part = world.enrol()
    response = site.client('secretary1').post(f'/act/participation/{part.id}',
                                              data={'event': 'approve_enrolment', 'version': part.version})
    assert response.status_code == 403
    api = site.app.test_client()
    secret = tokens.create_token(world.secretary1, 't')[1]
    response = api.post(f'/api/v1/objects/participation/{part.id}/events/approve_enrolment', json={},
                        headers={'Authorization': f'Bearer {secret}'})
    assert response.status_code == 403 and response.get_json()['error'] == 'not_permitted'
    # …and an auditor, who sees every campaign, is refused union staff's campaign page with 403
    assert site.client('auditor').get(f'/campaigns/{world.campaign.id}').status_code == 403
