"""The security log (issue 9, item 7; ASVS 16.2.1, 16.2.2, 16.3.2, 16.4.1): one line per security-relevant event —
refused authorisations, refused engine actions, sign-in success and failure, sign-out, CSRF failures, throttling —
with the time in UTC (ISO 8601), the user's id and name, the client's address (behind CHUANGZHENG_PROXY_COUNT
trusted proxies, the one X-Forwarded-For names), the event, the object and the outcome; client-chosen words
escaped so that they can forge neither a line nor a field; configured the same way under gunicorn and under
`flask run` (web/logging_setup.py). The lines are read back with a parser, as a log reader would."""
import datetime
import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

import engine
from engine import security_log
from engine.organisation import tokens
from web.logging_setup import Formatter

from conftest import World, _url
from scenarios import participation_in
from web_fixtures import Site, app, csrf_app, make_app, site  # noqa: F401  (fixtures)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r'(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) (?P<logger>chuangzheng\.\w+) '
                  r'(?P<fields>.*)')
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)(?: |$)')
NAMES = ['event', 'outcome', 'user', 'username', 'client', 'object', 'reason']


def parse(line):
    """{'time', 'level', 'logger', field: value, …} of one formatted line; the fields must cover it exactly."""
    found = LINE.fullmatch(line)
    assert found, repr(line)
    fields = found.group('fields')
    pairs = FIELD.findall(fields)
    assert ''.join(f'{k}={v} ' for k, v in pairs).rstrip() == fields, f'not a line of fields: {line!r}'
    values = {k: (json.loads(v) if v.startswith('"') else None if v == '-' else v) for k, v in pairs}
    return {**values, 'time': found.group('time'), 'level': found.group('level'), 'logger': found.group('logger'),
            'names': [k for k, _ in pairs]}


def security_lines(caplog):
    formatter = Formatter()
    return [parse(formatter.format(r)) for r in caplog.records if r.name == 'chuangzheng.security']


def only(lines, **wanted):
    matching = [line for line in lines if all(line.get(k) == v for k, v in wanted.items())]
    assert len(matching) == 1, (wanted, lines)
    return matching[0]


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger='chuangzheng')
    return caplog


def test_the_time_is_utc_iso_8601_with_milliseconds():
    record = logging.LogRecord('chuangzheng.security', logging.WARNING, __file__, 1, 'x', (), None)
    record.created = datetime.datetime(2026, 12, 3, 8, 15, 2, 123456, tzinfo=datetime.timezone.utc).timestamp()
    assert Formatter().formatTime(record) == '2026-12-03T08:15:02.123Z'


def test_a_refused_action_is_one_line_with_who_what_when_where(site, log):
    world = site.world
    world.launch()
    part = world.enrol()             # leader1 sees the enrolment but approving it is the chair's: 403
    response = site.client('leader1').post(f'/act/participation/{part.id}', data={
        'event': 'approve_enrolment', 'version': part.version}, environ_base={'REMOTE_ADDR': '10.20.30.40'})
    assert response.status_code == 403
    line = only(security_lines(log), event='approve_enrolment')
    assert line['names'] == NAMES and line['level'] == 'WARNING'
    assert (line['outcome'], line['user'], line['username'], line['client'], line['object']) == (
        'refused', str(world.leader1.id), 'leader1', '10.20.30.40', f'participation#{part.id}')
    assert line['reason'] == '不能审批本人所在班组的事项 (you cannot review your own team)'


def test_probing_hidden_and_missing_objects_is_logged_with_the_truth(site, log):
    """The answers are the same (tests/test_authz_existence.py); the log says which was which."""
    world = site.world
    other = participation_in(world, 'in_progress', team=world.t3, leader=world.leader3)
    client = site.client('leader1')
    assert client.get(f'/objects/participation/{other.id}').status_code == 404
    assert client.get('/objects/participation/99999').status_code == 404
    lines = security_lines(log)
    hidden = only(lines, object=f'participation#{other.id}')
    assert (hidden['event'], hidden['outcome'], hidden['username'], hidden['level']) == (
        'view', 'hidden', 'leader1', 'WARNING')
    missing = only(lines, object='participation#99999')
    assert (missing['event'], missing['outcome'], missing['user'], missing['client']) == (
        'review.detail', 'not_found', str(world.leader1.id), '127.0.0.1')


def test_refused_engine_actions_and_api_refusals(app, world, log):
    part = participation_in(world, 'in_progress')
    secret = tokens.create_token(world.leader1, 'log')[1]
    api = app.test_client()
    headers = {'Authorization': f'Bearer {secret}'}
    response = api.post(f'/api/v1/objects/participation/{part.id}/events/submit_stage', json={},
                        headers={**headers, 'If-Match': f'"{part.version + 1}"'})
    assert response.status_code == 409
    assert api.get('/api/v1/me', headers={'Authorization': 'Bearer cz_wrong'}).status_code == 401
    app.config['API_RATE_LIMIT'] = 3
    statuses = []
    while 429 not in statuses and len(statuses) < 10:
        statuses.append(api.get('/api/v1/me', headers=headers).status_code)
    assert statuses[-1] == 429
    lines = security_lines(log)
    conflict = only(lines, event='submit_stage')
    assert (conflict['outcome'], conflict['username'], conflict['object'], conflict['level']) == (
        'conflict', 'leader1', f'participation#{part.id}', 'INFO')
    unknown = only(lines, outcome='not_authenticated')
    assert (unknown['event'], unknown['user'], unknown['client']) == ('organisation.me', None, '127.0.0.1')
    throttled = only(lines, outcome='throttled')
    assert (throttled['event'], throttled['username'], throttled['level']) == ('organisation.me', 'leader1',
                                                                              'WARNING')


def test_sign_in_sign_out_and_csrf_failures(csrf_app, world, log):
    from web_fixtures import quick_passwords, PASSWORD
    quick_passwords()
    client = csrf_app.test_client()
    page = client.get('/login').get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post('/login', data={'username': 'leader1', 'password': 'wrong', 'csrf_token': token})
    assert client.post('/login', data={'username': 'leader1', 'password': PASSWORD,
                                       'csrf_token': token}).status_code == 302
    response = client.post(f'/teams/{world.t1.id}/enrol', data={})
    assert response.status_code == 400                                     # no CSRF token
    page = client.get('/team', follow_redirects=True).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post('/logout', data={'csrf_token': token}).status_code == 302
    lines = security_lines(log)
    failed = only(lines, event='login', outcome='failed')
    assert (failed['username'], failed['user'], failed['client'], failed['level']) == (
        'leader1', None, '127.0.0.1', 'WARNING')
    ok = only(lines, event='login', outcome='succeeded')
    assert (ok['user'], ok['level']) == (str(world.leader1.id), 'INFO')
    csrf = only(lines, outcome='csrf_failed', event='team.enrol')
    assert (csrf['user'], csrf['username'], csrf['object'], csrf['client']) == (
        str(world.leader1.id), 'leader1', f'team#{world.t1.id}', '127.0.0.1')
    out = only(lines, event='logout')
    assert (out['outcome'], out['user']) == ('succeeded', str(world.leader1.id))


def test_the_client_address_honours_the_trusted_proxies(db, world, tmp_path, log):
    world.launch()
    part = world.enrol()
    for proxies, expected in ((0, '127.0.0.1'), (1, '198.51.100.7')):
        site = Site(make_app(tmp_path, PROXY_COUNT=proxies), world)
        site.client('leader1').post(f'/act/participation/{part.id}', data={'event': 'approve_enrolment',
                                                                          'version': part.version},
                                    headers={'X-Forwarded-For': '198.51.100.7'})
        line = security_lines(log)[-1]
        assert (line['event'], line['outcome'], line['client']) == ('approve_enrolment', 'refused', expected)


def test_client_chosen_words_cannot_forge_a_line_or_a_field(db, world, tmp_path, log):
    site = Site(make_app(tmp_path, PROXY_COUNT=1), world)
    world.launch()
    part = world.enrol()
    forged_event = 'x\r\n2026 INFO a event=login outcome=ok'
    forged_client = '6.6.6.6" outcome="succeeded\x1b[2J'
    response = site.client('leader1').post(f'/act/participation/{part.id}', data={
        'event': forged_event, 'version': part.version}, headers={'X-Forwarded-For': forged_client})
    assert response.status_code == 409
    formatted = [Formatter().format(r) for r in log.records if r.name == 'chuangzheng.security']
    assert all(not re.search(r'[\x00-\x1f\x7f]', f) for f in formatted), formatted
    line = security_lines(log)[-1]
    assert line['names'] == NAMES
    assert (line['event'], line['outcome'], line['client']) == (
        'x2026 INFO a event=login outcome=ok', 'invalid_transition', '6.6.6.6" outcome="succeeded[2J')
    # any other message of the app's loggers is one quoted field too, with where the request came from (a
    # handler formats the record while the request is being served)
    with site.app.test_request_context('/', environ_base={'REMOTE_ADDR': '10.0.0.9'}):
        logging.getLogger('chuangzheng.web').warning('value out of range: %s', 'a\nb" c=d')
        line = Formatter().format(log.records[-1])
    assert re.fullmatch(r'\S+Z WARNING chuangzheng\.web client=10\.0\.0\.9 message="value out of range: ab\\" c=d"',
                        line), line


def test_flask_run_and_the_cli_get_the_same_log_as_gunicorn(tmp_path):
    """Nothing configured logging (as under `flask run`): the app factory sets up web/logging_setup.py's one
    configuration, once however many apps are made."""
    script = ('import engine, web\n'
              'from engine import security_log\n'
              f'config = {{"DATABASE_URL": "sqlite:///{tmp_path}/f.db"}}\n'
              'app = web.create_app(config); web.create_app(config)\n'
              'with app.test_request_context("/x", environ_base={"REMOTE_ADDR": "10.9.8.7"}):\n'
              '    security_log.event("approve_stage", "refused", username="eve\\nx", obj="participation#3")\n')
    done = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != 'DATABASE_URL'})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if ' chuangzheng.security ' in line]
    assert len(lines) == 1, done.stderr
    line = parse(lines[0])
    assert (line['event'], line['outcome'], line['username'], line['client'], line['object']) == (
        'approve_stage', 'refused', 'evex', '10.9.8.7', 'participation#3')


def test_gunicorn_writes_a_refused_action_with_time_and_address_to_its_error_log(db, tmp_path, monkeypatch):
    from bench.load_server import gunicorn_process
    from test_production import SECRETS, _wait_for, env_with, free_port
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', SECRETS['CHUANGZHENG_AUDIT_KEY'])
    world = World()
    world.launch()
    part = world.enrol()
    secret = tokens.create_token(world.leader1, 'gunicorn')[1]
    port = free_port()
    env = env_with(**SECRETS, DATABASE_URL=_url(tmp_path), CHUANGZHENG_BIND=f'127.0.0.1:{port}',
                   CHUANGZHENG_WORKERS='1', CHUANGZHENG_PROXY_COUNT='1')
    path = tmp_path / 'gunicorn.log'
    with open(path, 'w') as out, gunicorn_process(env, out):
        _wait_for(f'http://127.0.0.1:{port}/healthz')
        request = urllib.request.Request(
            f'http://127.0.0.1:{port}/api/v1/objects/participation/{part.id}/events/approve_enrolment', data=b'{}',
            method='POST', headers={'Authorization': f'Bearer {secret}', 'Content-Type': 'application/json',
                                    'X-Forwarded-For': '203.0.113.44'})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 403
    text = path.read_text(encoding='utf-8')
    lines = [parse(line) for line in text.splitlines() if ' chuangzheng.security ' in line]
    refusal = only(lines, event='approve_enrolment')
    assert (refusal['outcome'], refusal['user'], refusal['username'], refusal['client'], refusal['object']) == (
        'refused', str(world.leader1.id), 'leader1', '203.0.113.44', f'participation#{part.id}'), text
    assert text.count(f'object=participation#{part.id}') == 1, 'one line per event, not one per handler'
    assert '"POST /api/v1/objects/participation' in text          # gunicorn's own access log is still there
