"""The JSON API (/api/v1): tokens, each endpoint for each role, the one error envelope for every kind of bad
input, stale versions, throttling, uploads, and the token page of the UI."""
import hashlib
import io
import json
import re

import pytest

import engine
from engine.organisation import tokens
from models import ApiToken, AuditPersonal, AuditRecord, Evidence, Participation, Requirement, User, database

from conftest import set_state
from scenarios import application_in, innovation_in, participation_in
from web_fixtures import app, csrf_app, make_app, site  # noqa: F401  (fixtures used by name)

ENVELOPE = {'error', 'message', 'details'}
ROLES = ('leader1', 'chair1', 'secretary1', 'staff', 'auditor', 'other_staff', 'other_leader', 'leader3')


class Client:
    """A test client that sends one person's API token."""

    def __init__(self, app, world):
        self.http, self.world, self.secrets = app.test_client(), world, {}

    def token(self, username):
        if username not in self.secrets:
            self.secrets[username] = tokens.create_token(User.get(User.username == username), 'test')[1]
        return self.secrets[username]

    def call(self, method, path, who=None, *, version=None, headers=None, **kw):
        headers = dict(headers or {})
        if who:
            headers['Authorization'] = f'Bearer {self.token(who)}'
        if version is not None:
            headers['If-Match'] = f'"{version}"'
        response = self.http.open(f'/api/v1{path}', method=method, headers=headers, **kw)
        response.request.input_stream.close()    # a big upload's body is a temporary file
        return response

    def get(self, path, who, **kw):
        return self.call('GET', path, who, **kw)

    def post(self, path, who, body=None, **kw):
        return self.call('POST', path, who, json=body if body is not None else {}, **kw)

    def fire(self, who, record, event, body=None, **kw):
        object_type = engine.door.runtime.object_type_of(record)
        return self.post(f'/objects/{object_type}/{record.id}/events/{event}', who, body, **kw)


@pytest.fixture
def api(app, world):
    return Client(app, world)


def error_of(response, status, code=None):
    """Assert an error answer: the status, JSON, exactly the envelope's keys; return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == 'application/json'
    body = response.get_json()
    assert set(body) == ENVELOPE and isinstance(body['details'], dict) and body['message']
    if code:
        assert body['error'] == code, body
    return body


# --- the document and the docs page ---------------------------------------------------------------------

def test_openapi_document_is_generated_and_public(api):
    response = api.http.get('/api/v1/openapi.json')
    assert response.status_code == 200
    spec = response.get_json()
    assert spec['openapi'].startswith('3.')
    assert spec['components']['securitySchemes']['bearerAuth'] == {**spec['components']['securitySchemes'][
        'bearerAuth'], 'type': 'http', 'scheme': 'bearer'}
    assert spec['security'] == [{'bearerAuth': []}]
    paths = spec['paths']
    for path in ('/api/v1/inbox', '/api/v1/audit', '/api/v1/participations/{record_id}',
                 '/api/v1/objects/{object_type}/{object_id}/events/{event}',
                 '/api/v1/participations/{participation_id}/evidence/{requirement_id}'):
        assert path in paths, path
    event = paths['/api/v1/objects/{object_type}/{object_id}/events/{event}']['post']
    assert any(p['name'] == 'If-Match' and p['in'] == 'header' for p in event['parameters'])
    assert event['responses']['default']['$ref'].endswith('DEFAULT_ERROR')
    assert set(spec['components']['schemas']['Error']['properties']) == ENVELOPE
    upload = paths['/api/v1/participations/{participation_id}/evidence/{requirement_id}']['post']
    assert 'multipart/form-data' in upload['requestBody']['content']


def test_docs_page_works_offline(api):
    response = api.http.get('/api/v1/docs')
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'curl' in page and '/api/v1/objects/{object_type}/{object_id}/events/{event}' in page
    assert 'Authorization: Bearer' in page and 'schema-Error' in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page), 'loads something from outside'


# --- authentication ------------------------------------------------------------------------------------

@pytest.mark.parametrize('authorization', [None, 'Bearer', 'Bearer nope', 'Basic bGVhZGVyMTpzZWNyZXQxMjM=',
                                           'Bearer ' + 'x' * 500, 'Bearer cz_\u00e9t\u00e9'])
def test_requests_without_a_valid_token_are_401(api, authorization):
    headers = {'Authorization': authorization} if authorization else {}
    response = api.http.get('/api/v1/me', headers=headers)
    error_of(response, 401, 'not_authenticated')
    assert response.headers['WWW-Authenticate'].startswith('Bearer')


def test_revoked_token_and_inactive_user_are_401(api, world):
    assert api.get('/me', 'leader1').get_json()['username'] == 'leader1'
    token = ApiToken.get(ApiToken.token_hash == tokens.digest(api.token('leader1')))
    tokens.revoke_token(world.leader1, token.id)
    error_of(api.get('/me', 'leader1'), 401, 'not_authenticated')
    assert api.get('/me', 'chair1').status_code == 200
    User.update(active=False).where(User.id == world.chair1.id).execute()
    error_of(api.get('/me', 'chair1'), 401, 'not_authenticated')


def test_session_cookie_is_not_accepted(site, world):
    browser = site.client('leader1')               # signed in through the real login form
    assert browser.get('/team').status_code in (200, 302)
    error_of(browser.get('/api/v1/me'), 401, 'not_authenticated')
    world.launch()
    before = Participation.select().count()
    response = browser.post('/api/v1/participations', json={'team_id': world.t1.id, 'campaign_id': world.campaign.id})
    error_of(response, 401, 'not_authenticated')
    assert Participation.select().count() == before


def test_api_needs_no_csrf_token_but_the_ui_still_does(csrf_app, world):
    client = Client(csrf_app, world)
    world.launch()
    response = client.post('/participations', 'leader1', {'team_id': world.t1.id, 'campaign_id': world.campaign.id})
    assert response.status_code == 201, response.get_data(as_text=True)
    browser = csrf_app.test_client()
    assert browser.post('/login', data={'username': 'leader1', 'password': 'secret123'}).status_code == 400


def test_last_use_is_recorded(api, world):
    api.get('/me', 'leader1')
    token = ApiToken.get(ApiToken.user == world.leader1)
    assert token.last_used_at is not None and token.rate_count >= 1


# --- reading, for each role ----------------------------------------------------------------------------

# who may not see an object gets 404, the answer for one that does not exist (tests/test_authz_existence.py)
VIEW_OF_TEAM_1 = {'leader1': 200, 'chair1': 200, 'secretary1': 200, 'staff': 200, 'auditor': 200,
                  'other_staff': 404, 'other_leader': 404, 'leader3': 404}
VIEW_OF_CAMPAIGN = {'leader1': 404, 'chair1': 404, 'secretary1': 404, 'staff': 200, 'auditor': 200,
                    'other_staff': 404, 'other_leader': 404, 'leader3': 404}
AUDITORS_ONLY = {role: (200 if role == 'auditor' else 403) for role in ROLES}


@pytest.fixture
def records(world):
    app_ = application_in(world, 'submitted')
    part = set_state(Participation.get(Participation.team == world.t1), 'in_progress')
    return {'participation': part, 'application': app_, 'innovation': innovation_in(world, 'draft'),
            'campaign': world.campaign}


@pytest.mark.parametrize('role', ROLES)
@pytest.mark.parametrize('path, expected', [
    ('/participations/{participation}', VIEW_OF_TEAM_1),
    ('/innovations/{innovation}', VIEW_OF_TEAM_1),
    ('/applications/{application}', VIEW_OF_TEAM_1),
    ('/objects/participation/{participation}', VIEW_OF_TEAM_1),
    ('/objects/participation/{participation}/history', VIEW_OF_TEAM_1),
    ('/objects/innovation/{innovation}/actions', VIEW_OF_TEAM_1),
    ('/participations/{participation}/evidence/{requirement}', VIEW_OF_TEAM_1),
    ('/teams/{team}', VIEW_OF_TEAM_1),
    ('/teams/{team}/history', VIEW_OF_TEAM_1),
    ('/campaigns/{campaign}', VIEW_OF_CAMPAIGN),
    ('/objects/campaign/{campaign}/history', VIEW_OF_CAMPAIGN),
    ('/audit', AUDITORS_ONLY),
    ('/audit/integrity', AUDITORS_ONLY),
    ('/campaigns/{campaign}/progress', VIEW_OF_CAMPAIGN),
    ('/me', {role: 200 for role in ROLES}),
    ('/inbox', {role: 200 for role in ROLES}),
])
def test_read_permissions(api, world, records, role, path, expected):
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.stage == 'popularization')
    ids = {name: record.id for name, record in records.items()}
    response = api.get(path.format(**ids, team=world.t1.id, requirement=requirement.id), role)
    if expected[role] == 200:
        assert response.status_code == 200, (role, path, response.get_json())
    else:
        error_of(response, expected[role], {403: 'not_permitted', 404: 'not_found'}[expected[role]])


@pytest.mark.parametrize('role, teams', [
    ('leader1', {'装卸一班'}), ('chair1', {'装卸一班', '装卸二班'}), ('secretary2', {'调度班'}),
    ('staff', {'装卸一班', '装卸二班', '调度班'}), ('other_staff', {'售票班'}),
    ('auditor', {'装卸一班', '装卸二班', '调度班', '售票班'}), ('other_leader', {'售票班'}),
])
def test_lists_show_what_the_role_may_read(api, world, role, teams):
    world.launch()
    for team, leader in ((world.t1, world.leader1), (world.t2, world.chair1), (world.t3, world.leader3)):
        world.enrol(team, leader)
    assert {t['name'] for t in api.get('/teams', role).get_json()['items']} == teams
    listed = {p['team']['name'] for p in api.get('/participations', role).get_json()['items']}
    assert listed == teams - {'售票班'}
    campaigns = {c['id'] for c in api.get('/campaigns', role).get_json()['items']}
    assert campaigns == ({world.campaign.id} if role in ('staff', 'auditor') else set())


def test_units_and_branches(api, world):
    assert [u['code'] for u in api.get('/units', 'staff').get_json()['items']] == ['HY']
    assert [u['code'] for u in api.get('/units', 'auditor').get_json()['items']] == ['HY', 'KY']
    assert api.get('/units', 'leader1').get_json()['items'] == []
    assert [b['name'] for b in api.get('/branches', 'chair1').get_json()['items']] == ['一分会']
    assert len(api.get('/branches', 'staff').get_json()['items']) == 2


def test_paging_with_after(api, world):
    first = api.get('/teams?limit=2', 'auditor').get_json()
    assert len(first['items']) == 2 and first['next_after'] == first['items'][-1]['id']
    second = api.get(f'/teams?limit=2&after={first["next_after"]}', 'auditor').get_json()
    assert len(second['items']) == 2 and second['next_after'] is None
    assert {t['id'] for t in first['items']}.isdisjoint({t['id'] for t in second['items']})


def test_participation_detail_has_checklist_evidence_and_actions(api, world):
    part = participation_in(world, 'in_progress')
    response = api.get(f'/participations/{part.id}', 'leader1')
    body = response.get_json()
    assert response.headers['ETag'] == f'"{part.version}"' and body['version'] == part.version
    assert len(body['requirements']) == 6
    assert all(r['evidence']['text'].startswith('材料') for r in body['requirements'])
    assert {a['event'] for a in body['actions']} >= {'submit_stage', 'withdraw'}
    assert body['team']['name'] == '装卸一班' and body['state_label'] == {'zh': '创建中', 'en': 'In progress'}
    chair = api.get(f'/participations/{part.id}', 'chair1').get_json()
    assert chair['actions'] == []


def test_inbox_lists_what_waits_for_the_reviewer(api, world):
    part = participation_in(world, 'submitted')
    body = api.get('/inbox', 'chair1').get_json()
    assert body['count'] == 1 and body['items'][0]['id'] == part.id
    assert {a['event'] for a in body['items'][0]['actions']} >= {'approve_stage', 'return_stage'}
    assert api.get('/inbox', 'leader1').get_json() == {'count': 0, 'items': []}


def test_audit_log_filters_and_pages(api, world):
    part = participation_in(world, 'in_progress')
    body = api.get(f'/audit?object_type=participation&object_id={part.id}&limit=3', 'auditor').get_json()
    assert [r['event'] for r in body['items']] == ['edit_evidence'] * 3
    assert body['next_before'] == body['items'][-1]['seq']
    rest = api.get(f'/audit?object_type=participation&object_id={part.id}&before={body["next_before"]}&limit=50',
                   'auditor').get_json()
    assert rest['items'][-1]['event'] == 'enrol' and rest['next_before'] is None
    assert rest['items'][-1]['actor_name'] == '张班长' and rest['items'][-1]['occurred_at'].endswith('Z')
    by_actor = api.get('/audit?actor=staff&event=launch', 'auditor').get_json()['items']
    assert [(r['object_type'], r['event']) for r in by_actor] == [('campaign', 'launch')]
    assert api.get('/audit?since=2000-01-01&until=2000-01-02', 'auditor').get_json()['items'] == []


# --- acting --------------------------------------------------------------------------------------------

def test_enrol_approve_and_history(api, world):
    world.launch()
    response = api.post('/participations', 'leader1', {'team_id': world.t1.id, 'campaign_id': world.campaign.id})
    assert response.status_code == 201
    created = response.get_json()
    assert created['state'] == 'requested' and response.headers['Location'].endswith(f'/participations/{created["id"]}')
    part = Participation.get_by_id(created['id'])
    error_of(api.fire('secretary1', part, 'approve_enrolment'), 403, 'not_permitted')
    error_of(api.fire('other_staff', part, 'approve_enrolment'), 404, 'not_found')     # may not see it at all
    error_of(api.fire('leader1', part, 'approve_enrolment'), 403, 'not_permitted')
    response = api.fire('chair1', part, 'approve_enrolment', version=created['version'])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()['state'] == 'in_progress' and response.headers['ETag'] == f'"{created["version"] + 1}"'
    history = api.get(f'/objects/participation/{part.id}/history', 'leader1').get_json()['items']
    assert [(r['event'], r['actor_name'], r['actor_role']) for r in history] == [
        ('enrol', '张班长', 'team_leader'), ('approve_enrolment', '李主席', 'branch_chair')]


def test_stale_version_is_409(api, world):
    world.launch()
    part = world.enrol()
    stale = part.version
    assert api.fire('chair1', part, 'return_enrolment', {'reason': '请补充材料'}, version=stale).status_code == 200
    body = error_of(api.fire('leader1', part, 'resubmit_enrolment', version=stale), 409, 'conflict')
    assert body['details'] == {'expected_version': stale, 'current_version': stale + 1}
    body = error_of(api.fire('leader1', part, 'resubmit_enrolment', {'version': stale}), 409, 'conflict')
    assert api.fire('leader1', part, 'resubmit_enrolment', {'version': stale + 1}).status_code == 200


def test_guards_and_states_are_409_with_reasons(api, world):
    part = participation_in(world, 'in_progress')
    Evidence.update(text='').execute()
    body = error_of(api.fire('leader1', part, 'submit_stage', version=part.version), 409, 'guard_failed')
    assert body['details']['reasons'][0]['guard'] == 'has_evidence_for_every_requirement'
    body = error_of(api.fire('chair1', part, 'approve_stage'), 409, 'invalid_transition')
    error_of(api.fire('leader1', part, 'no_such_event'), 404, 'not_found')


def test_reason_required_and_payload_checked_by_the_engine(api, world):
    part = participation_in(world, 'submitted')
    body = error_of(api.fire('chair1', part, 'return_stage'), 422, 'bad_input')
    assert 'reason' in body['details']['fields']
    error_of(api.fire('chair1', part, 'return_stage', {'reason': '不全', 'payload': {'requirement_ids': ['x']}}),
             422, 'bad_input')
    error_of(api.fire('chair1', part, 'approve_stage', {'payload': {'anything': 1}}), 422, 'bad_input')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    response = api.fire('chair1', part, 'return_stage', {'reason': '愿景需全员讨论',
                                                         'payload': {'requirement_ids': [requirement.id]}})
    assert response.get_json()['state'] == 'stage_returned'
    assert Evidence.get(Evidence.requirement == requirement).status == 'returned'


def test_union_override_needs_a_reason(api, world):
    world.launch()
    part = world.enrol()
    error_of(api.fire('staff', part, 'approve_enrolment'), 422, 'bad_input')
    response = api.fire('staff', part, 'approve_enrolment', {'reason': '分会主席出差，代为审核', 'override': True})
    assert response.status_code == 200 and response.get_json()['state'] == 'in_progress'


@pytest.mark.parametrize('path, body, who, status', [
    ('/applications', {'year': 2026, 'tier': 'learning_team', 'statement': '申报'}, 'leader1', 201),
    ('/applications', {'year': 2026, 'tier': 'learning_team'}, 'chair1', 403),
    ('/innovations', {'year': 2026, 'title': '装车提效', 'topic': 'efficiency', 'summary': '缩短时间'}, 'leader1', 201),
    ('/innovations', {'year': 2026, 'title': '装车提效', 'topic': 'efficiency'}, 'other_leader', 404),
    ('/participations', {}, 'staff', 403),
    ('/participations', {}, 'auditor', 403),
])
def test_create(api, world, path, body, who, status):
    world.launch()
    response = api.post(path, who, {'team_id': world.t1.id, 'campaign_id': world.campaign.id, **body})
    if status == 201:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()['state'] == 'draft'
    else:
        error_of(response, status, {403: 'not_permitted', 404: 'not_found'}[status])   # 404: another unit's team


def test_messages_come_in_the_language_the_client_asks_for(api, world):
    part = participation_in(world, 'in_progress')
    Evidence.update(text='').execute()
    bilingual = error_of(api.fire('leader1', part, 'submit_stage', version=part.version), 409, 'guard_failed')
    english = error_of(api.fire('leader1', part, 'submit_stage', version=part.version,
                                headers={'Accept-Language': 'en-GB,en;q=0.9'}), 409, 'guard_failed')
    chinese = error_of(api.fire('leader1', part, 'submit_stage', version=part.version,
                                headers={'Accept-Language': 'zh-CN'}), 409, 'guard_failed')
    assert bilingual['message'] == chinese['message'], 'without the header: as before (guards: Chinese)'
    assert english['message'] and not re.search('[\u4e00-\u9fff]', english['message']), english['message']
    assert chinese['message'] and not re.search('[A-Za-z]{4}', chinese['message']), chinese['message']
    assert english['details'] == chinese['details'] == bilingual['details'], 'details do not depend on it'
    missing = api.get('/objects/participation/999999', 'leader1', headers={'Accept-Language': 'en'})
    assert error_of(missing, 404, 'not_found')['message'] == 'participation #999999 not found or not yours to see'
    assert error_of(api.get('/objects/participation/999999', 'leader1', headers={'Accept-Language': 'zh'}),
                    404)['message'] == '班组参与 #999999 不存在或您无权查看'


def test_create_for_unknown_team_is_404(api, world):
    world.launch()
    error_of(api.post('/participations', 'leader1', {'team_id': 99999, 'campaign_id': world.campaign.id}),
             404, 'not_found')


# --- union staff: checklist, progress, commendation; auditors: integrity -----------------------------------

def test_union_staff_edit_the_checklist(api, world):
    campaign = world.campaign
    body = {'stage': 'popularization', 'code': 'safety_talk', 'title_zh': '每周安全讲评', 'title_en': 'Weekly safety talk',
            'cadence': 'monthly', 'reason': '处工会年度要求'}
    error_of(api.post(f'/campaigns/{campaign.id}/requirements', 'leader1', body, version=campaign.version), 404,
             'not_found')          # a campaign is seen by its union staff and auditors only
    error_of(api.post(f'/campaigns/{campaign.id}/requirements', 'other_staff', body, version=campaign.version), 404,
             'not_found')
    error_of(api.post(f'/campaigns/{campaign.id}/requirements', 'auditor', body, version=campaign.version), 403,
             'not_permitted')
    error_of(api.post(f'/campaigns/{campaign.id}/requirements', 'staff', body), 422, 'bad_input')   # no If-Match
    response = api.post(f'/campaigns/{campaign.id}/requirements', 'staff', body, version=campaign.version)
    assert response.status_code == 201 and response.get_json()['code'] == 'safety_talk'
    assert response.headers['ETag'] == f'"{campaign.version + 1}"'
    requirement_id = response.get_json()['id']
    path = f'/campaigns/{campaign.id}/requirements/{requirement_id}'
    error_of(api.call('PATCH', path, 'staff', json={'active': False}, version=campaign.version), 409, 'conflict')
    response = api.call('PATCH', path, 'staff', json={'active': False, 'reason': '并入学习计划'},
                        version=campaign.version + 1)
    assert response.status_code == 200 and response.get_json()['active'] is False
    error_of(api.call('PATCH', path, 'staff', json={}, version=campaign.version + 2), 422, 'bad_input')
    events = [r['event'] for r in api.get(f'/objects/campaign/{campaign.id}/history', 'auditor').get_json()['items']]
    assert events[-2:] == ['add_requirement', 'edit_requirement']


def test_campaign_progress_against_the_target(api, world):
    world.launch()
    world.enrol()
    Participation.update(state='in_progress').execute()
    body = api.get(f'/campaigns/{world.campaign.id}/progress', 'staff').get_json()
    assert (body['stage'], body['target'], body['taking'], body['total']) == ('popularization', 50, 1, 3)
    assert [(b['name'], b['taking'], b['total'], b['percent']) for b in body['branches']] == [
        ('一分会', 1, 2, 50), ('二分会', 0, 1, 0)]
    error_of(api.get(f'/campaigns/{world.campaign.id}/progress', 'chair1'), 404, 'not_found')


def test_commendation_decision(api, world):
    application = application_in(world, 'notice_closed')
    body = {'doc_number': '货工〔2026〕12号', 'title': '关于表彰学习型班组的决定', 'year': 2026,
            'application_ids': [application.id]}
    error_of(api.post(f'/campaigns/{world.campaign.id}/decisions', 'chair1', body), 404, 'not_found')
    response = api.post(f'/campaigns/{world.campaign.id}/decisions', 'staff', body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()['application_ids'] == [application.id]
    assert api.get(f'/applications/{application.id}', 'leader1').get_json()['state'] == 'commended'
    error_of(api.post(f'/campaigns/{world.campaign.id}/decisions', 'staff', body), 422, 'bad_input')  # number used


def test_integrity_for_auditors(api, world):
    body = api.get('/audit/integrity', 'auditor').get_json()
    assert body['ok'] is True and body['checked'] == body['head_seq'] > 0 and body['first_bad_seq'] is None
    checkpoint = body['checkpoint']
    assert api.get(f'/audit/integrity?checkpoint={checkpoint}', 'auditor').get_json()['ok'] is True
    wrong = checkpoint.split(':')[0] + ':' + '0' * 64
    assert api.get(f'/audit/integrity?checkpoint={wrong}', 'auditor').get_json()['ok'] is False
    error_of(api.get('/audit/integrity?checkpoint=yesterday', 'auditor'), 422, 'bad_input')
    error_of(api.get('/audit/integrity', 'staff'), 403, 'not_permitted')


# --- evidence ------------------------------------------------------------------------------------------

@pytest.fixture
def evidence_target(world):
    part = participation_in(world, 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'training_plan')
    return part, requirement, f'/participations/{part.id}/evidence/{requirement.id}'


def test_edit_evidence_text(api, evidence_target):
    part, _, path = evidence_target
    response = api.call('PUT', path, 'leader1', json={'text': '每月一次集中学习'}, version=part.version)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body['requirement']['evidence']['text'] == '每月一次集中学习'
    assert body['participation_version'] == part.version + 1 and response.headers['ETag'] == f'"{part.version + 1}"'
    error_of(api.call('PUT', path, 'leader1', json={'text': '再改'}, version=part.version), 409, 'conflict')
    body = error_of(api.call('PUT', path, 'leader1', json={'text': '再改'}), 422, 'bad_input')
    assert body['details'] == {'location': 'headers', 'fields': {'If-Match': ['Missing data for required field.']}}
    error_of(api.call('PUT', path, 'chair1', json={'text': '代写'}, version=part.version + 1), 403, 'not_permitted')
    error_of(api.call('PUT', path, 'leader1', json={}, version=part.version + 1), 422, 'bad_input')
    assert api.get(path, 'chair1').get_json()['requirement']['evidence']['text'] == '每月一次集中学习'


def test_evidence_is_locked_under_review(api, world, evidence_target):
    part, _, path = evidence_target
    part = set_state(part, 'submitted')
    error_of(api.call('PUT', path, 'leader1', json={'text': 'x'}, version=part.version), 409, 'invalid_transition')


def test_upload_download_and_remove_an_attachment(api, evidence_target):
    part, _, path = evidence_target
    pdf = b'%PDF-1.4 training plan'
    response = api.call('POST', path, 'leader1', version=part.version,
                        data={'file': (io.BytesIO(pdf), '培训计划.pdf')}, content_type='multipart/form-data')
    assert response.status_code == 200, response.get_json()
    attachment = response.get_json()['requirement']['evidence']['attachments'][0]
    assert attachment['filename'] == '培训计划.pdf' and attachment['sha256'] == hashlib.sha256(pdf).hexdigest()
    download = api.http.get(attachment['download'], headers={'Authorization': f'Bearer {api.token("chair1")}'})
    assert download.status_code == 200 and download.data == pdf
    error_of(api.http.get(attachment['download'], headers={'Authorization': f'Bearer {api.token("other_staff")}'}),
             404, 'not_found')
    response = api.call('PUT', path, 'leader1', json={'text': '见附件', 'remove_attachment_ids': [attachment['id']]},
                        version=part.version + 1)
    assert response.get_json()['requirement']['evidence']['attachments'] == []


@pytest.mark.parametrize('name, data, status, code', [
    ('virus.exe', b'MZ', 422, 'bad_input'),
    ('empty.pdf', b'', 422, 'bad_input'),
    ('big.pdf', b'0' * (10 * 1024 * 1024 + 1), 422, 'bad_input'),
])
def test_bad_uploads(api, evidence_target, name, data, status, code):
    part, _, path = evidence_target
    response = api.call('POST', path, 'leader1', version=part.version, data={'file': (io.BytesIO(data), name)},
                        content_type='multipart/form-data')
    error_of(response, status, code)


def test_upload_needs_a_file_multipart_and_a_version(api, evidence_target):
    part, _, path = evidence_target
    error_of(api.call('POST', path, 'leader1', version=part.version, data={'other': 'x'},
                      content_type='multipart/form-data'), 422, 'bad_input')
    error_of(api.call('POST', path, 'leader1', version=part.version, json={'file': 'x'}), 415,
             'unsupported_media_type')
    error_of(api.call('POST', path, 'leader1', data={'file': (io.BytesIO(b'x'), 'a.txt')},
                      content_type='multipart/form-data'), 422, 'bad_input')


def test_request_over_the_size_limit_is_413(db, tmp_path, world):
    small = make_app(tmp_path, MAX_CONTENT_LENGTH=64 * 1024)
    client = Client(small, world)
    part = participation_in(world, 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'training_plan')
    response = client.call('POST', f'/participations/{part.id}/evidence/{requirement.id}', 'leader1',
                           version=part.version, data={'file': (io.BytesIO(b'0' * 100_000), 'plan.pdf')},
                           content_type='multipart/form-data')
    error_of(response, 413, 'too_large')
    error_of(client.post(f'/objects/participation/{part.id}/events/withdraw', 'leader1',
                         {'reason': 'x' * 70_000}), 413, 'too_large')


def test_json_body_over_one_megabyte_is_413(api, world):
    part = participation_in(world, 'in_progress')
    error_of(api.post(f'/objects/participation/{part.id}/events/withdraw', 'leader1',
                      {'reason': 'x' * (1024 * 1024 + 10)}), 413, 'too_large')


# --- bad input: every kind gets a 4xx with the envelope --------------------------------------------------

def _event_path(world):
    part = participation_in(world, 'submitted')
    return f'/api/v1/objects/participation/{part.id}/events/return_stage'


@pytest.mark.parametrize('kind, kwargs, status, code', [
    ('wrong type', {'json': {'reason': 5}}, 422, 'bad_input'),
    ('wrong type of override', {'json': {'reason': 'x', 'override': 'perhaps'}}, 422, 'bad_input'),
    ('wrong type of version', {'json': {'reason': 'x', 'version': '7'}}, 422, 'bad_input'),
    ('unknown field', {'json': {'reason': 'x', 'is_admin': True}}, 422, 'bad_input'),
    ('huge string', {'json': {'reason': 'x' * 5000}}, 422, 'bad_input'),
    ('NUL character', {'json': {'reason': 'a\x00b'}}, 422, 'bad_input'),
    ('not an object', {'json': ['reason']}, 422, 'bad_input'),
    ('payload not an object', {'json': {'reason': 'x', 'payload': 'all'}}, 422, 'bad_input'),
    ('malformed JSON', {'data': '{"reason": ', 'content_type': 'application/json'}, 400, 'bad_request'),
    ('invalid UTF-8', {'data': b'{"reason": "\xff"}', 'content_type': 'application/json'}, 400, 'bad_request'),
    ('deeply nested', {'data': '{"payload": ' + '{"a": ' * 5000 + '1' + '}' * 5001, 'content_type': 'application/json'},
     400, 'bad_request'),
    ('nested past the limit', {'data': json.dumps({'payload': {'a': [[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}}),
                               'content_type': 'application/json'}, 400, 'bad_request'),
    ('unclosed arrays', {'data': '[' * 100000, 'content_type': 'application/json'}, 400, 'bad_request'),
    ('a number with 5000 digits', {'data': '{"version": 1' + '0' * 5000 + '}', 'content_type': 'application/json'},
     400, 'bad_request'),
    ('wrong content type', {'data': 'reason=x', 'content_type': 'application/x-www-form-urlencoded'}, 415,
     'unsupported_media_type'),
    ('text body', {'data': '{"reason": "x"}', 'content_type': 'text/plain'}, 415, 'unsupported_media_type'),
    ('bad If-Match', {'json': {'reason': 'x'}, 'headers': {'If-Match': 'yesterday'}}, 422, 'bad_input'),
    ('If-Match zero', {'json': {'reason': 'x'}, 'headers': {'If-Match': '"0"'}}, 422, 'bad_input'),
    ('If-Match and version disagree', {'json': {'reason': 'x', 'version': 1}, 'headers': {'If-Match': '"2"'}},
     422, 'bad_input'),
])
def test_bad_input_on_an_event(api, world, kind, kwargs, status, code):
    path = _event_path(world)
    headers = {'Authorization': f'Bearer {api.token("chair1")}', **kwargs.pop('headers', {})}
    error_of(api.http.post(path, headers=headers, **kwargs), status, code)


@pytest.mark.parametrize('path, body, field', [
    ('/applications', {}, 'team_id'),
    ('/applications', {'team_id': '1', 'campaign_id': 1, 'year': 2026, 'tier': 'learning_team'}, 'team_id'),
    ('/applications', {'team_id': 1, 'campaign_id': 1, 'year': 2026, 'tier': 'gold'}, 'tier'),
    ('/applications', {'team_id': 1, 'campaign_id': 1, 'year': 1900, 'tier': 'learning_team'}, 'year'),
    ('/applications', {'team_id': 2 ** 40, 'campaign_id': 1, 'year': 2026, 'tier': 'learning_team'}, 'team_id'),
    ('/innovations', {'team_id': 1, 'campaign_id': 1, 'year': 2026, 'title': '', 'topic': 'cost'}, 'title'),
    ('/innovations', {'team_id': 1, 'campaign_id': 1, 'year': 2026, 'title': 't' * 201, 'topic': 'cost'}, 'title'),
    ('/participations', {'team_id': 1, 'campaign_id': 1, 'extra': 1}, 'extra'),
    ('/participations', {'team_id': None, 'campaign_id': 1}, 'team_id'),
])
def test_bad_input_on_create_names_the_field(api, world, path, body, field):
    body = error_of(api.post(path, 'leader1', body), 422, 'bad_input')
    assert body['details']['location'] == 'json' and field in body['details']['fields']


@pytest.mark.parametrize('query', ['limit=abc', 'limit=0', 'limit=100000', 'after=-1', 'campaign_id=x',
                                   'state=' + 'x' * 40, 'year=1'])
def test_bad_query_parameters(api, query):
    body = error_of(api.get(f'/participations?{query}', 'leader1'), 422, 'bad_input')
    assert body['details']['location'] == 'query'


@pytest.mark.parametrize('query', ['object_type=team', 'since=yesterday', 'before=0', 'event=DROP TABLE',
                                   'actor=' + 'a' * 61])
def test_bad_audit_filters(api, query):
    error_of(api.get(f'/audit?{query}', 'auditor'), 422, 'bad_input')


@pytest.mark.parametrize('path', ['/participations/0', '/participations/-1', '/participations/99999999999999999999',
                                  '/participations/abc', '/objects/team/1', '/objects/participation/1/events/x',
                                  '/nothing/here', '/participations/999999'])
def test_unknown_paths_and_ids_are_404(api, world, path):
    error_of(api.get(path, 'leader1'), 404, 'not_found')


@pytest.mark.parametrize('method, path', [('DELETE', '/me'), ('PUT', '/inbox'), ('PATCH', '/participations'),
                                          ('GET', '/objects/participation/1/events/withdraw')])
def test_unsupported_methods_are_405_with_allow(api, method, path):
    response = api.call(method, path, 'leader1')
    error_of(response, 405, 'method_not_allowed')
    assert response.headers['Allow']


# --- throttling ----------------------------------------------------------------------------------------

def test_requests_over_the_limit_are_429(db, tmp_path, world):
    client = Client(make_app(tmp_path, API_RATE_LIMIT=3), world)
    for _ in range(3):
        assert client.get('/me', 'leader1').status_code == 200
    response = client.get('/me', 'leader1')
    body = error_of(response, 429, 'throttled')
    assert 1 <= int(response.headers['Retry-After']) <= 60 and body['details']['retry_after'] >= 1
    assert client.get('/me', 'chair1').status_code == 200        # the limit is per token


# --- the token page of the UI --------------------------------------------------------------------------

def test_token_page_creates_shows_once_and_revokes(site, world):
    browser = site.client('leader1')
    assert browser.get('/account/tokens').status_code == 200
    response = browser.post('/account/tokens', data={'name': '办公系统对接'})
    assert response.status_code == 201 and response.headers['Cache-Control'] == 'no-store'
    secret = re.search(r'<pre id="token-secret"[^>]*>(cz_[A-Za-z0-9_-]+)</pre>', response.get_data(as_text=True))[1]
    token = ApiToken.get(ApiToken.user == world.leader1)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and token.prefix == secret[:9]
    assert secret not in json.dumps([list(row) for row in database.execute_sql('SELECT * FROM api_token')], default=str)
    page = browser.get('/account/tokens').get_data(as_text=True)
    assert '办公系统对接' in page and secret not in page and token.prefix in page

    api_client = site.app.test_client()
    headers = {'Authorization': f'Bearer {secret}'}
    assert api_client.get('/api/v1/me', headers=headers).get_json()['username'] == 'leader1'
    response = browser.post(f'/account/tokens/{token.id}/revoke')
    assert response.status_code == 303
    assert ApiToken.get_by_id(token.id).revoked_at is not None
    error_of(api_client.get('/api/v1/me', headers=headers), 401, 'not_authenticated')

    records = list(AuditRecord.select().where(AuditRecord.object_type == 'user', AuditRecord.object_id ==
                                              world.leader1.id).order_by(AuditRecord.seq))
    assert [(r.event, r.payload) for r in records] == [
        ('create_api_token', {'token_id': token.id, 'prefix': token.prefix}),
        ('revoke_api_token', {'token_id': token.id, 'prefix': token.prefix})]
    assert all(secret not in (p.reason or '') for p in AuditPersonal.select())


def test_token_page_refuses_bad_names_and_others_tokens(site, world):
    mine = tokens.create_token(world.chair1, 'chair')[0]
    browser = site.client('leader1')
    assert browser.post('/account/tokens', data={'name': ''}).status_code in (303, 422)
    assert browser.post(f'/account/tokens/{mine.id}/revoke').status_code == 404
    assert ApiToken.get_by_id(mine.id).revoked_at is None
    assert site.app.test_client().get('/account/tokens').status_code == 302     # sign in first


def test_nav_links_to_the_token_page(site):
    assert '/account/tokens' in site.client('leader1').get('/team', follow_redirects=True).get_data(as_text=True)


# --- the quick start of the docs page, on the demo ------------------------------------------------------

def test_drive_the_demo_campaign_through_the_api(db, tmp_path):
    """What the docs page's quick start shows: a team leader records evidence and submits the stage, the
    branch chair approves, the party secretary co-signs, the auditor reads it in the global log."""
    from models import RoleAssignment, Team
    from cli import demo
    application = make_app(tmp_path)
    demo.seed()
    team = Team.get(Team.name == '东场安全质量班')
    leader = RoleAssignment.get(RoleAssignment.team == team, RoleAssignment.role == 'team_leader').user.username
    client = Client(application, None)

    me = client.get('/me', leader).get_json()
    assert me['roles'][0] == {'role': 'team_leader', 'team_id': team.id, 'branch_id': team.branch_id,
                              'unit_id': me['roles'][0]['unit_id']}
    participation_id = client.get(f'/teams/{team.id}', leader).get_json()['participations'][0]['id']
    part = client.get(f'/participations/{participation_id}', leader).get_json()
    assert part['state'] == 'in_progress' and part['stage'] == 'consolidation'
    version = part['version']
    for requirement in part['requirements']:
        path = f'/participations/{participation_id}/evidence/{requirement["id"]}'
        response = client.call('PUT', path, leader, json={'text': f'{requirement["title_zh"]}：已落实，见附件'},
                               version=version)
        assert response.status_code == 200, response.get_json()
        version = response.get_json()['participation_version']
    response = client.call('POST', path, leader, version=version, content_type='multipart/form-data',
                           data={'file': (io.BytesIO(b'%PDF-1.4 minutes'), '会议纪要.pdf')})
    version = response.get_json()['participation_version']

    submitted = client.post(f'/objects/participation/{participation_id}/events/submit_stage', leader, version=version)
    assert submitted.get_json()['state'] == 'submitted', submitted.get_json()

    inbox = client.get('/inbox', 'chair1').get_json()['items']
    item = next(i for i in inbox if i['object_type'] == 'participation' and i['id'] == participation_id)
    approved = client.post(f'/objects/participation/{participation_id}/events/approve_stage', 'chair1',
                           version=item['version'])
    assert approved.get_json()['state'] == 'awaiting_cosign'          # the unit asks its secretaries to co-sign
    cosigned = client.post(f'/objects/participation/{participation_id}/events/cosign_stage', 'secretary1',
                           {'version': approved.get_json()['version']})
    assert cosigned.get_json()['state'] == 'stage_reached'

    history = client.get(f'/objects/participation/{participation_id}/history', leader).get_json()['items']
    assert [r['event'] for r in history[-3:]] == ['submit_stage', 'approve_stage', 'cosign_stage']
    log = client.get(f'/audit?object_type=participation&object_id={participation_id}&limit=1', 'auditor').get_json()
    assert log['items'][0]['event'] == 'cosign_stage' and log['next_before'] is not None
