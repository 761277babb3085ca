"""Security of the web layer (SPEC §7): sign-in and sign-out (a server-side revocable session), CSRF on every
form, no state change on GET, auditors strictly read-only, horizontal access control, output escaping, safe
redirects and cookies, and no 5xx for anything a client can send."""
import logging
import re

import pytest

import engine
from models import (Application, AuditRecord, CommendationDecision, Evidence, Participation,
                    Requirement, User, UserSession)

from conftest import set_state
from scenarios import application_in, innovation_in, participation_in
from web_fixtures import (act, enrolled, error_message, login, make_app, new_application, PASSWORD, quick_passwords,
                          raw, Site, text, upload)
from web_fixtures import app, csrf_app, site  # noqa: F401  (fixtures)

BIG = '9' * 30


def fresh(record):
    return type(record).get_by_id(record.id)


def session_cookie(client):
    cookie = client.get_cookie('session')
    return cookie.value if cookie else None


def sessions_of(username):
    """The key hashes of the person's server-side sessions (web/sessions.py)."""
    return {s.key_hash for s in UserSession.select().join(User).where(User.username == username)}


def snapshot():
    """What a refused request must leave untouched."""
    return (AuditRecord.select().count(), [(p.id, p.state, p.version) for p in Participation.select()],
            [(a.id, a.state, a.version) for a in Application.select()], Evidence.select().count(),
            CommendationDecision.select().count(), User.select().count())


# --- signing in and out ---------------------------------------------------------------------------------------

def test_login_page(site):
    page = site.app.test_client().get('/login')
    assert page.status_code == 200
    assert 'name="username"' in raw(page) and 'type="password"' in raw(page)


@pytest.mark.parametrize('username, password', [
    ('leader1', 'wrong-password'), ('leader1', ''), ('nobody', PASSWORD), ('', ''), ('system', ''),
    ('LEADER1', PASSWORD), ('leader1 ', 'secret123 '), ('x' * 5000, 'y' * 5000), ('leader1\x00', PASSWORD),
])
def test_login_with_wrong_credentials_fails_with_401(site, username, password):
    client = site.app.test_client()
    response = login(client, username, password)
    assert response.status_code == 401
    assert '用户名或密码错误' in text(response)              # the same words whether or not the user exists
    assert client.get('/team').status_code == 302        # still signed out
    assert client.get('/team').location.startswith('/login')


def test_inactive_user_cannot_log_in(site):
    User.update(active=False).where(User.username == 'leader1').execute()
    assert login(site.app.test_client(), 'leader1').status_code == 401


def test_login_starts_a_new_session_and_logout_revokes_it_on_the_server(site):
    client = site.app.test_client()
    client.get('/login')
    response = login(client, 'leader1')
    assert response.status_code == 302 and response.location == '/'
    assert len(sessions_of('leader1')) == 1
    cookie = session_cookie(client)
    assert client.get('/team').status_code == 302 and client.get('/team').location.startswith('/teams/')

    # the same cookie in another browser works while the session lives …
    thief = site.app.test_client()
    thief.set_cookie('session', cookie)
    assert thief.get(f'/teams/{site.world.t1.id}').status_code == 200

    response = client.post('/logout')
    assert response.status_code == 302 and response.location == '/login'
    assert sessions_of('leader1') == set()
    assert client.get(f'/teams/{site.world.t1.id}').location.startswith('/login')
    # … and no longer after logout: the session was revoked on the server, not just forgotten by the browser
    response = thief.get(f'/teams/{site.world.t1.id}')
    assert response.status_code == 302 and response.location.startswith('/login')
    assert thief.post(f'/teams/{site.world.t1.id}/enrol').status_code == 302
    assert Participation.select().count() == 0


def test_a_new_login_gets_a_new_session(site):
    client = site.app.test_client()
    login(client, 'leader1')
    first_cookie, first_session = session_cookie(client), sessions_of('leader1')
    client.post('/logout')
    login(client, 'leader1')
    assert session_cookie(client) != first_cookie
    assert sessions_of('leader1') and not sessions_of('leader1') & first_session
    stale = site.app.test_client()
    stale.set_cookie('session', first_cookie)
    assert stale.get('/team').location.startswith('/login')


def test_logout_is_post_only(site):
    client = site.client('leader1')
    response = client.get('/logout')
    assert response.status_code == 405 and error_message(response)[1] == '405'
    assert client.get('/team').status_code == 302 and client.get('/team').location.startswith('/teams/')


@pytest.mark.parametrize('next_url, target', [
    ('/inbox', '/inbox'), ('//evil.example/x', '/'), ('http://evil.example/', '/'), ('/\\evil.example', '/'),
    ('javascript:alert(1)', '/'), ('', '/'),
])
def test_login_redirects_only_inside_the_site(site, next_url, target):
    response = site.app.test_client().post('/login?next=' + next_url,
                                           data={'username': 'chair1', 'password': PASSWORD})
    assert response.status_code == 302 and response.location == target


def test_session_cookie_flags(site):
    response = login(site.app.test_client(), 'leader1')
    cookie = [v for k, v in response.headers.items() if k == 'Set-Cookie' and v.startswith('session=')][0]
    assert 'HttpOnly' in cookie and 'SameSite=Lax' in cookie


def test_session_cookie_is_secure_over_https(db, tmp_path, monkeypatch, world):
    monkeypatch.setenv('CHUANGZHENG_HTTPS', '1')
    quick_passwords()
    response = login(make_app(tmp_path).test_client(), 'leader1')
    # over HTTPS the cookie carries the __Host- prefix: Secure, Path=/ and no Domain, pinned to this host
    cookie = [v for k, v in response.headers.items() if k == 'Set-Cookie' and v.startswith('__Host-session=')][0]
    assert 'Secure' in cookie and 'HttpOnly' in cookie and 'Path=/' in cookie and 'Domain' not in cookie


GET_PAGES = ['/', '/team', '/teams/{t1}', '/inbox', '/objects/participation/{part}', '/branches', '/branches/{b1}',
             '/campaigns', '/campaigns/{campaign}', '/campaigns/{campaign}/evaluation',
             '/campaigns/{campaign}/commendations', '/campaigns/{campaign}/export.xlsx', '/org/import', '/audit',
             '/audit/integrity', '/audit/export.csv', '/workflows', '/attachments/1']


def test_signed_out_visitors_are_sent_to_login(site):
    world = site.world
    part = enrolled(world)
    ids = {'t1': world.t1.id, 'part': part.id, 'b1': world.b1.id, 'campaign': world.campaign.id}
    client = site.app.test_client()
    for page in GET_PAGES:
        response = client.get(page.format(**ids))
        assert response.status_code == 302, page
        assert response.location.startswith('/login?next='), page
    assert client.get('/healthz').status_code == 200
    before = snapshot()
    for url, data in ((f'/act/participation/{part.id}', {'event': 'approve_enrolment', 'version': part.version}),
                      (f'/teams/{world.t1.id}/enrol', {}), ('/inbox/bulk', {'items': 'x'}),
                      (f'/campaigns/{world.campaign.id}/commendations', {'doc_number': 'x'})):
        response = client.post(url, data=data)
        assert response.status_code == 302 and response.location.startswith('/login'), url
    assert snapshot() == before


# --- CSRF -----------------------------------------------------------------------------------------------------

def csrf_token(response):
    return re.search(r'name="csrf_token" value="([^"]+)"', raw(response)).group(1)


def csrf_login(client, username):
    token = csrf_token(client.get('/login'))
    response = client.post('/login', data={'username': username, 'password': PASSWORD, 'csrf_token': token})
    assert response.status_code == 302
    return client


@pytest.fixture
def csrf_site(csrf_app, world):
    return Site(csrf_app, world)


def test_login_form_needs_its_csrf_token(csrf_site):
    client = csrf_site.app.test_client()
    response = client.post('/login', data={'username': 'leader1', 'password': PASSWORD})
    assert response.status_code == 400
    assert 'CSRF' in error_message(response)[2]
    assert sessions_of('leader1') == set()
    assert client.get('/team').location.startswith('/login')
    csrf_login(client, 'leader1')
    assert client.get('/team').location.startswith('/teams/')


def _forms(world):
    """(user, url, form data, is it multipart) for every form of the application, ready to succeed."""
    part = enrolled(world)
    draft = set_state(participation_in(world, 'in_progress', team=world.t3, leader=world.leader3), 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    waiting = application_in(world, 'notice_closed', team=world.t2, leader=world.chair1)
    campaign = fresh(world.campaign)
    return [
        ('chair1', f'/act/participation/{part.id}', {'event': 'approve_enrolment', 'version': part.version}),
        ('chair1', '/inbox/bulk', {'items': f'participation:{part.id}:{part.version}:approve_enrolment'}),
        ('leader3', f'/participations/{draft.id}/evidence/{requirement.id}', {'version': draft.version, 'text': 'x'}),
        ('leader1', f'/teams/{world.t1.id}/applications', {'campaign_id': campaign.id, 'year': 2026,
                                                           'tier': 'learning_team'}),
        ('leader1', f'/teams/{world.t1.id}/innovations', {'campaign_id': campaign.id, 'year': 2026, 'title': 't',
                                                          'topic': 'cost', 'summary': 's'}),
        ('staff', f'/campaigns/{campaign.id}/requirements/{requirement.id}', {'version': campaign.version,
                                                                              'title_zh': '改', 'active': 'true'}),
        ('staff', f'/campaigns/{campaign.id}/commendations', {'doc_number': 'D1', 'title': 'T', 'year': 2026,
                                                              'application_ids': waiting.id}),
        ('staff', '/org/import', {}),
        ('leader1', '/logout', {}),
        ('leader1', '/language/en', {}),
    ]


def test_every_form_refuses_a_post_without_its_csrf_token(csrf_site):
    world = csrf_site.world
    forms = _forms(world)
    clients = {}
    for user, url, data in forms:
        client = clients.get(user) or csrf_login(csrf_site.app.test_client(), user)
        clients[user] = client
        before = snapshot()
        for token in (None, 'forged-token'):
            payload = dict(data, **({'csrf_token': token} if token else {}))
            response = client.post(url, data=payload)
            assert response.status_code == 400, (url, token, response.status_code)
            assert 'CSRF' in error_message(response)[2], url
            assert snapshot() == before, url
    # the sessions survived (logout without a token did nothing) and no language was switched
    assert clients['leader1'].get('/team').location.startswith('/teams/')
    assert sessions_of('leader1')
    assert 'lang="zh-CN"' in raw(clients['leader1'].get(f'/teams/{world.t1.id}'))


def test_a_form_with_its_csrf_token_goes_through(csrf_site):
    world = csrf_site.world
    part = enrolled(world)
    client = csrf_login(csrf_site.app.test_client(), 'chair1')
    page = client.get(f'/objects/participation/{part.id}')
    response = client.post(f'/act/participation/{part.id}', data={
        'event': 'approve_enrolment', 'version': part.version, 'csrf_token': csrf_token(page)})
    assert response.status_code == 303 and fresh(part).state == 'in_progress'
    # a token from another session is not accepted
    other = csrf_login(csrf_site.app.test_client(), 'chair2')
    second = enrolled(world, team=world.t2, leader=world.chair1)
    response = other.post(f'/act/participation/{second.id}', data={
        'event': 'approve_enrolment', 'version': second.version, 'csrf_token': csrf_token(page)})
    assert response.status_code == 400 and fresh(second).state == 'requested'


def test_csrf_protects_file_uploads_too(csrf_site):
    world = csrf_site.world
    part = set_state(participation_in(world, 'in_progress'), 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'training_plan')
    client = csrf_login(csrf_site.app.test_client(), 'leader1')
    before = snapshot()
    response = upload(client, f'/participations/{part.id}/evidence/{requirement.id}', {'version': part.version},
                      [('plan.pdf', b'%PDF-1.4')])
    assert response.status_code == 400 and snapshot() == before


# --- no state change on GET ------------------------------------------------------------------------------------

@pytest.mark.parametrize('url', ['/logout', '/language/en', '/teams/{t1}/enrol', '/act/participation/{part}',
                                 '/inbox/bulk', '/participations/{part}/evidence/1', '/teams/{t1}/applications',
                                 '/teams/{t1}/innovations', '/campaigns/{campaign}/requirements/1'])
def test_actions_do_not_answer_get(site, url):
    world = site.world
    part = enrolled(world)
    before = snapshot()
    response = site.client('chair1').get(url.format(t1=world.t1.id, part=part.id, campaign=world.campaign.id))
    assert response.status_code == 405 and error_message(response)[0] == '不支持的操作'
    assert snapshot() == before


@pytest.mark.parametrize('user', ['leader1', 'chair1', 'secretary1', 'staff', 'auditor'])
def test_reading_every_page_changes_nothing(site, user):
    world = site.world
    part = participation_in(world, 'submitted')
    new_application(world)
    innovation_in(world, 'submitted')
    ids = {'t1': world.t1.id, 'part': part.id, 'b1': world.b1.id, 'campaign': world.campaign.id}
    before = snapshot()
    client = site.client(user)
    for page in GET_PAGES:
        assert client.get(page.format(**ids)).status_code < 500, page
    assert snapshot() == before


# --- auditors: strictly read-only ------------------------------------------------------------------------------

def test_any_post_by_an_auditor_is_refused(site, caplog):
    world = site.world
    forms = _forms(world)
    client = site.client('auditor')
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger='chuangzheng.security'):
        for user, url, data in forms:
            if url in ('/logout', '/language/en'):
                continue
            response = client.post(url, data=data)
            assert response.status_code == 403, url
            assert error_message(response)[0] == '无权访问', url
        response = upload(client, f'/participations/{Participation.select().first().id}/evidence/1', {'version': 1},
                          [('x.pdf', b'%PDF')])
        assert response.status_code == 403
        response = client.post('/org/import', data={})
        assert response.status_code == 403
    assert snapshot() == before
    assert '审计人员只能查看' in error_message(client.post('/inbox/bulk', data={}))[2]
    refusals = [r.getMessage() for r in caplog.records if r.name == 'chuangzheng.security']
    assert len(refusals) >= len(forms) - 2
    assert all(f'user={world.auditor.id}' in r for r in refusals)
    # reading, switching the language and signing out still work
    assert client.get('/audit').status_code == 200
    assert client.post('/language/en', data={'next': '/audit'}).status_code == 302
    assert client.post('/logout').status_code == 302
    assert client.get('/audit').location.startswith('/login')


@pytest.mark.parametrize('event', ['approve_enrolment', 'return_enrolment', 'reject_enrolment', 'withdraw'])
def test_auditor_cannot_fire_any_event(site, event):
    part = participation_in(site.world, 'requested')
    before = snapshot()
    response = act(site.client('auditor'), 'participation', part, event, reason='审计')
    assert response.status_code == 403 and snapshot() == before


# --- horizontal access ------------------------------------------------------------------------------------------

def test_a_leader_cannot_reach_another_teams_anything(site):
    world = site.world
    own = participation_in(world, 'in_progress')
    other = participation_in(world, 'in_progress', team=world.t3, leader=world.leader3)
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    engine.record_evidence(other, requirement.id, world.leader3, add_files=[('secret.pdf', b'%PDF-secret')])
    attachment_id = Evidence.get(Evidence.participation == other, Evidence.requirement == requirement) \
        .attachments.first().id
    result = innovation_in(world, 'draft', team=world.t3, leader=world.leader3)
    client = site.client('leader1')
    for url in (f'/teams/{world.t3.id}', f'/objects/participation/{other.id}', f'/objects/innovation/{result.id}',
                f'/attachments/{attachment_id}', f'/teams/{world.ot.id}', f'/branches/{world.b1.id}'):
        response = client.get(url)
        assert response.status_code == 404, url          # as if it did not exist (test_authz_existence.py)
        assert b'%PDF-secret' not in response.data
    assert client.get(f'/objects/participation/{own.id}').status_code == 200
    before = snapshot()
    for url, data in ((f'/act/participation/{other.id}', {'event': 'withdraw', 'version': other.version,
                                                          'reason': '替别人退出'}),
                      (f'/act/innovation/{result.id}', {'event': 'submit', 'version': result.version}),
                      (f'/participations/{other.id}/evidence/{requirement.id}', {'version': other.version,
                                                                                 'text': '篡改'})):
        assert client.post(url, data=data).status_code == 404, url
    assert snapshot() == before


def test_refused_authorisations_are_logged(site, caplog):
    world = site.world
    part = enrolled(world, team=world.t3, leader=world.leader3)
    with caplog.at_level(logging.WARNING, logger='chuangzheng.security'):
        act(site.client('chair1'), 'participation', part, 'approve_enrolment')
        site.client('leader1').get(f'/teams/{world.t3.id}')
    messages = [r.getMessage() for r in caplog.records if r.name == 'chuangzheng.security']
    # chair1 may not even read 调度班's participation, so the refusal comes at reading it (answered 404)
    # (the whole line, with the time and the client's address: tests/test_security_log.py)
    assert any(m.startswith(f'event=view outcome=hidden user={world.chair1.id} username=chair1 ')
               and f' object=participation#{part.id} ' in m for m in messages), messages
    assert any(m.startswith(f'event=view outcome=hidden user={world.leader1.id} username=leader1 ')
               and f' object=team#{world.t3.id} ' in m for m in messages), messages


# --- output escaping ---------------------------------------------------------------------------------------------

def test_user_text_is_escaped_everywhere_it_is_shown(site):
    world = site.world
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    part = participation_in(world, 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    engine.record_evidence(part, requirement.id, world.leader1, text=payload,
                           add_files=[(payload.replace('/', '') + '.pdf', b'%PDF')])
    engine.fire(fresh(part), 'submit_stage', world.leader1)
    engine.fire(fresh(part), 'return_stage', world.chair1, reason=payload)
    engine.create('innovation', world.leader1, {'team_id': world.t1.id, 'campaign_id': world.campaign.id,
                                                'year': 2026, 'title': payload, 'topic': 'cost', 'summary': payload})
    pages = [site.client('leader1').get(f'/teams/{world.t1.id}'),
             site.client('chair1').get(f'/objects/participation/{part.id}'),
             site.client('secretary1').get(f'/branches/{world.b1.id}'),
             site.client('auditor').get('/audit')]
    for page in pages:
        assert page.status_code == 200
        assert '<script>alert' not in raw(page) and '<img src=x' not in raw(page)
    assert '&lt;script&gt;alert' in raw(pages[0]) and '&lt;script&gt;alert' in raw(pages[3])


# --- never a 500 ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('user, method, url, data', [
    ('staff', 'get', f'/teams/{BIG}', None),
    ('staff', 'get', f'/objects/participation/{BIG}', None),
    ('staff', 'get', f'/attachments/{BIG}', None),
    ('staff', 'get', f'/branches/{BIG}', None),
    ('staff', 'get', f'/campaigns/{BIG}/evaluation', None),
    ('staff', 'post', f'/act/participation/{BIG}', {'event': 'approve_enrolment', 'version': '1'}),
    ('staff', 'post', '/teams/{t1}/applications', {'campaign_id': BIG, 'year': '2026', 'tier': 'learning_team'}),
    ('staff', 'post', '/campaigns/{campaign}/commendations', {'doc_number': 'x', 'title': 'y', 'year': '2026',
                                                               'application_ids': BIG}),
    ('chair1', 'post', '/inbox/bulk', {'items': f'participation:{BIG}:1:approve_enrolment'}),
    ('chair1', 'post', '/inbox/bulk', {'items': 'participation:{part}:' + BIG + ':approve_enrolment'}),
    ('chair1', 'post', '/act/participation/{part}', {'event': 'approve_enrolment', 'version': BIG}),
    ('chair1', 'post', '/act/participation/{part}', {'event': 'approve_enrolment\x00', 'version': '{version}'}),
    ('chair1', 'post', '/act/participation/{part}', {'event': 'return_enrolment', 'version': '{version}',
                                                     'reason': '理由\x00\u202e\ud7ff'}),
    ('chair1', 'post', '/act/participation/{part}', {'event': ['approve_enrolment', 'reject_enrolment'],
                                                     'version': ['{version}', '0']}),
    ('leader1', 'post', '/teams/{t1}/innovations', {'campaign_id': '1e3', 'year': '２０２６', 'title': 'x',
                                                    'topic': 'cost'}),
    ('leader1', 'post', '/teams/{t1}/applications', {'campaign_id': '-1', 'year': '2026', 'tier': 'learning_team'}),
    ('leader1', 'post', '/teams/{t1}/applications', {'campaign_id': '{campaign}', 'year': '2026.5',
                                                     'tier': 'learning_team'}),
    ('staff', 'post', '/campaigns/{campaign}/requirements/' + BIG, {'version': '1', 'title_zh': 'x'}),
    ('staff', 'post', '/campaigns/{campaign}/requirements/1', {'version': BIG, 'title_zh': 'x'}),
    ('staff', 'post', '/campaigns/{campaign}/requirements/1', {'version': '{campaign_version}', 'title_zh': '',
                                                               'description': 'x' * 3000}),
    ('auditor', 'get', f'/audit?object_id={BIG}', None),
    ('auditor', 'get', f'/audit?before={BIG}', None),
    ('auditor', 'get', '/audit?until=9999-12-31', None),
    ('auditor', 'get', '/audit?since=0001-01-01&until=0001-01-01', None),
    ('auditor', 'get', '/audit?object_type=participation&object_id=1&actor=%00&event=x', None),
    ('auditor', 'get', '/audit/export.csv?object_id=abc', None),
    ('auditor', 'get', '/audit/integrity?checkpoint=garbage', None),
    ('auditor', 'get', '/audit/integrity?checkpoint=99999:' + 'a' * 64, None),
    ('leader1', 'get', '/login?next=%00', None),
    # NUL characters: PostgreSQL cannot store or even compare them
    ('leader1', 'post', '/teams/{t1}/applications', {'campaign_id': '{campaign}', 'year': '2026',
                                                     'tier': 'learning_team', 'statement': 'a\x00b'}),
    ('leader1', 'post', '/teams/{t1}/innovations', {'campaign_id': '{campaign}', 'year': '2026', 'title': 'a\x00',
                                                    'topic': 'cost', 'summary': 's'}),
    ('leader1', 'post', '/participations/{part}/evidence/1', {'version': '{version}', 'text': 'a\x00'}),
    ('staff', 'post', '/campaigns/{campaign}/commendations', {'doc_number': 'X\x00', 'title': 'y', 'year': '2026',
                                                               'application_ids': '1'}),
    ('staff', 'post', '/campaigns/{campaign}/requirements/1', {'version': '{campaign_version}', 'title_zh': 'a\x00'}),
    ('chair1', 'post', '/inbox/bulk', {'items': 'participation:{part}:{version}:approve_enrolment', 'reason': 'x\x00'}),
    ('chair1', 'post', '/act/participation/{part}', {'event': 'return_enrolment', 'version': '{version}',
                                                     'reason': 'x\x00', 'requirement_ids': '\x00'}),
    ('auditor', 'get', '/audit?actor=%00', None),
    ('auditor', 'get', '/audit/export.csv?actor=a%00b', None),
    ('leader1', 'post', '/language/xx', {'next': '//evil'}),
    ('leader1', 'get', '/objects/participation/{part}?lang=<script>', None),
])
def test_nothing_a_client_sends_causes_a_500(site, user, method, url, data):
    world = site.world
    part = enrolled(world)
    values = {'t1': world.t1.id, 'part': part.id, 'version': part.version, 'campaign': world.campaign.id,
              'campaign_version': fresh(world.campaign).version}

    def fill(value):
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value.format(**values) if '{' in value else value

    client = site.client(user)
    kwargs = {'data': {k: fill(v) for k, v in data.items()}} if data else {}
    response = getattr(client, method)(fill(url), **kwargs)
    assert response.status_code < 500, text(response)[:500]
    if response.status_code >= 400:
        title, status, message = error_message(response)
        assert status == str(response.status_code) and message
