"""Security headers on every response (web/security.py): pages, the API, static files, downloads, redirects and
every kind of error carry Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, Referrer-Policy and
friends, and the app itself names no server software. The CSP allows no inline script and the templates need
none; a real Chromium enforces it and still draws the mermaid state diagrams. Under gunicorn (production) the
Server header names no software and no version."""
import os
import re

import pytest

from engine.organisation import tokens
from models import Participation, User
from web import security

import security_support as sec
from conftest import _url
from web_fixtures import make_app, quick_passwords, raw
from web_fixtures import app, csrf_app  # noqa: F401  (fixtures)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = {
    'Content-Security-Policy': security.CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
}


def check_headers(response, what):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (what, response.status_code, name, response.headers.get(name))
    assert 'Server' not in response.headers, (what, response.headers.get('Server'))
    if response.mimetype == 'text/html':
        body = raw(response)
        # no inline script, no event-handler attribute, no javascript: URL in any page the app sends
        assert not re.search(r'<script(?![^>]*\bsrc=)[^>]*>', body), what
        assert not re.search(r'<[a-z][^>]*\son[a-z]+\s*=', body, re.I), what
        assert 'javascript:' not in body.lower(), what


# --- the policy itself -------------------------------------------------------------------------------------------

def test_the_policy_forbids_inline_script_framing_plugins_and_foreign_forms():
    policy = dict(d.strip().split(' ', 1) for d in security.CSP.split(';'))
    assert policy['default-src'] == "'self'"
    assert policy['script-src'] == "'self'"                      # no 'unsafe-inline', no 'unsafe-eval'
    assert policy['object-src'] == "'none'" and policy['base-uri'] == "'none'"
    assert policy['frame-ancestors'] == "'none'" and policy['form-action'] == "'self'"
    # inline styles are allowed: style="" attributes in the templates, the API docs page's <style> and the
    # <style> mermaid writes into every SVG (checked in Chromium below)
    assert policy['style-src'] == "'self' 'unsafe-inline'"
    assert 'http' not in security.CSP and '*' not in security.CSP


def test_templates_have_no_inline_script_handlers_or_javascript_urls():
    folders = [os.path.join(ROOT, 'web', 'templates'), os.path.join(ROOT, 'web', 'api', 'templates')]
    names = [os.path.join(f, n) for f in folders for n in os.listdir(f) if n.endswith('.html')]
    assert len(names) > 15
    for name in names:
        with open(name, encoding='utf-8') as f:
            text = f.read()
        assert not re.search(r'<script(?![^>]*\bsrc=)[^>]*>', text), name
        assert not re.search(r'\son[a-z]+\s*=', text, re.I), name
        assert 'javascript:' not in text.lower(), name


# --- every response ------------------------------------------------------------------------------------------------

@pytest.fixture
def arena(app, world):
    quick_passwords()
    return sec.Arena(world)


def ui_client(app, username):
    client = app.test_client()
    assert client.post('/login', data={'username': username, 'password': 'secret123'}).status_code == 302
    return client


def test_every_route_of_the_app_answers_with_the_security_headers(app, arena):
    """Every GET route in the URL map, as a person who may use it and as one who may not (UI: a signed-in staff
    member and an auditor; API: their tokens), plus a signed-out visitor."""
    values = sec.url_values(arena)
    staff, auditor, visitor = ui_client(app, 'staff'), ui_client(app, 'auditor'), app.test_client()
    keys = {who: tokens.create_token(User.get(User.username == who), 'headers')[1] for who in ('staff', 'leader1')}
    seen = 0
    for rule in app.url_map.iter_rules():
        if 'GET' not in rule.methods:
            continue
        url = sec.build_url(app, rule, values)
        if rule.rule.startswith('/api/v1'):
            responses = [visitor.get(url)] + [visitor.get(url, headers={'Authorization': f'Bearer {key}'})
                                              for key in keys.values()]
        else:
            responses = [staff.get(url), auditor.get(url), visitor.get(url)]
        for response in responses:
            check_headers(response, url)
            seen += 1
    assert seen > 120


def test_errors_downloads_and_every_method_carry_the_headers_too(app, arena):
    client = ui_client(app, 'leader1')
    key = tokens.create_token(User.get(User.username == 'leader1'), 'h')[1]
    bearer = {'Authorization': f'Bearer {key}'}
    part = arena.p1
    cases = {
        'UI 404': client.get('/no/such/page'),
        'UI 404 object': client.get('/objects/participation/999999'),
        'UI 405': client.get('/logout'),
        'UI 403': client.get('/audit'),
        'UI 404 hidden': client.get(f'/teams/{arena.world.t3.id}'),
        'UI 422': client.post(f'/teams/{arena.world.t1.id}/innovations', data={'title': ''}),
        'UI 409 redirect': client.post(f'/act/participation/{part.id}', data={'event': 'withdraw', 'version': 1,
                                                                              'reason': 'x', 'back': '/team'}),
        'UI HEAD': client.head('/team'),
        'UI OPTIONS': client.options('/login'),
        'UI download': client.get(f'/attachments/{arena.attachment.id}'),
        'UI static': client.get('/static/app.js'),
        'UI vendored mermaid': client.get('/static/vendor/mermaid/mermaid.min.js'),
        'UI static 404': client.get('/static/nothing.js'),
        'UI logout': client.post('/logout'),
        'API 401': app.test_client().get('/api/v1/me'),
        'API 404': app.test_client().get('/api/v1/nothing', headers=bearer),
        'API 405': app.test_client().delete('/api/v1/me', headers=bearer),
        'API 415': app.test_client().post('/api/v1/participations', data='x', content_type='text/plain',
                                          headers=bearer),
        'API 422': app.test_client().post('/api/v1/participations', json={'x': 1}, headers=bearer),
        'API download': app.test_client().get(f'/api/v1/attachments/{arena.attachment.id}', headers=bearer),
        'API OPTIONS': app.test_client().options('/api/v1/me'),
        'API docs': app.test_client().get('/api/v1/docs'),
        'OpenAPI': app.test_client().get('/api/v1/openapi.json'),
        'health': app.test_client().get('/healthz'),
    }
    for what, response in cases.items():
        check_headers(response, what)
    assert cases['UI download'].headers['Content-Disposition'].startswith('attachment')
    assert cases['API 401'].status_code == 401 and cases['UI 405'].status_code == 405


def test_csv_export_and_login_throttling_carry_the_headers(app, arena):
    auditor = ui_client(app, 'auditor')
    check_headers(auditor.get('/audit/export.csv'), 'CSV')
    check_headers(ui_client(app, 'staff').get(f'/campaigns/{arena.world.campaign.id}/export.xlsx'), 'xlsx')
    client = app.test_client()
    for _ in range(5):
        client.post('/login', data={'username': 'chair2', 'password': 'x'})
    throttled = client.post('/login', data={'username': 'chair2', 'password': 'x'})
    assert throttled.status_code == 429
    check_headers(throttled, 'login 429')


def test_csrf_failures_oversized_bodies_and_api_throttling_carry_the_headers(csrf_app, db, tmp_path, world):
    quick_passwords()
    check_headers(csrf_app.test_client().post('/login', data={'username': 'x'}), 'CSRF 400')
    small = make_app(tmp_path, MAX_CONTENT_LENGTH=1024, API_RATE_LIMIT=1)
    client = small.test_client()
    check_headers(client.post('/login', data={'username': 'x' * 5000}), 'UI 413')
    key = tokens.create_token(User.get(User.username == 'leader1'), 'h')[1]
    bearer = {'Authorization': f'Bearer {key}'}
    check_headers(client.post('/api/v1/participations', json={'x': 'y' * 5000}, headers=bearer), 'API 413')
    check_headers(client.get('/api/v1/me', headers=bearer), 'API 429')


def test_an_unexpected_error_carries_the_headers(db, tmp_path, world):
    application = make_app(tmp_path)

    @application.get('/boom')
    def boom():
        raise RuntimeError('boom')

    @application.get('/api/v1/boom')
    def api_boom():
        raise RuntimeError('boom')

    for url in ('/boom', '/api/v1/boom'):
        response = application.test_client().get(url)
        assert response.status_code == 500
        check_headers(response, url)
        assert 'RuntimeError' not in response.get_data(as_text=True)


def test_over_https_the_browser_is_told_to_stay_on_https(db, tmp_path, world, monkeypatch):
    monkeypatch.setenv('CHUANGZHENG_HTTPS', '1')
    response = make_app(tmp_path).test_client().get('/login')
    assert response.headers['Strict-Transport-Security'] == security.HSTS
    assert 'Strict-Transport-Security' not in make_app(tmp_path, SESSION_COOKIE_SECURE=False).test_client().get(
        '/login').headers


# --- production: gunicorn --------------------------------------------------------------------------------------

def test_gunicorn_names_no_server_software_and_sends_the_headers(db, tmp_path, monkeypatch):
    from bench.load_server import gunicorn_process
    from test_production import SECRETS, env_with, free_port, _wait_for
    import urllib.error
    import urllib.request
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', SECRETS['CHUANGZHENG_AUDIT_KEY'])
    port = free_port()
    env = env_with(**SECRETS, DATABASE_URL=_url(tmp_path), CHUANGZHENG_BIND=f'127.0.0.1:{port}',
                   CHUANGZHENG_WORKERS='1')
    with open(tmp_path / 'gunicorn.log', 'w') as log, gunicorn_process(env, log):
        _wait_for(f'http://127.0.0.1:{port}/healthz')
        for path, status in (('/login', 200), ('/static/app.js', 200), ('/api/v1/me', 401), ('/nothing', 404)):
            try:
                response = urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=10)
            except urllib.error.HTTPError as err:
                response = err
            with response:
                assert response.status == status, path
                headers = response.headers
                assert headers.get_all('Server') == ['chuangzheng'], (path, headers.get_all('Server'))
                for name, value in EXPECTED.items():
                    assert headers[name] == value, (path, name)


# --- the policy in a real browser ------------------------------------------------------------------------------

from browser_support import Browser, LiveServer, browser_missing, make_driver  # noqa: E402

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));
"""


@pytest.mark.browser
@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or '')
def test_chromium_enforces_the_policy_and_still_draws_the_diagrams(app, arena, tmp_path):
    server = LiveServer(app, str(tmp_path / 'server.log')).start()
    driver = make_driver(str(tmp_path / 'profile'))
    try:
        driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': RECORD_VIOLATIONS})
        browser = Browser(driver, server)
        browser.login('chair1')
        part = Participation.get_by_id(arena.p1.id)
        for path in (f'/objects/participation/{part.id}', '/workflows', '/inbox', '/api/v1/docs', '/login'):
            browser.go(path)
            browser.wait_for_diagram()
            if 'mermaid' in driver.page_source or path == '/workflows':
                svgs = driver.execute_script("return document.querySelectorAll('pre.mermaid svg').length")
                assert svgs >= 1, path
                # mermaid styled its SVG (an inline <style>, allowed by style-src 'unsafe-inline')
                assert driver.execute_script(
                    "return !!document.querySelector('pre.mermaid svg style')"), path
            assert driver.execute_script('return window.__csp') == [], (path, driver.execute_script(
                'return window.__csp'))
            assert driver.execute_script('return document.readyState') == 'complete'
        # the control: markup that got into a page could not run script (an event handler, an inline <script>)
        browser.go(f'/objects/participation/{part.id}')
        driver.execute_script("""
            document.body.insertAdjacentHTML('beforeend', '<img src="/static/none.png" onerror="window.__ran = 1">');
            const s = document.createElement('script'); s.textContent = 'window.__ran = 2';
            document.body.appendChild(s);""")
        browser.wait(lambda d: len(d.execute_script('return window.__csp')) >= 2, message='no CSP report')
        assert driver.execute_script('return window.__ran') is None
        directives = ' '.join(driver.execute_script('return window.__csp'))
        assert 'script-src' in directives
        assert not server.recorder.server_errors()
    finally:
        driver.quit()
        server.stop()
