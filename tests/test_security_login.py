"""Sessions and sign-in (SPEC §7: ASVS 3.5.1, 7.2.4, 7.4.1, 16.3.2, 16.4.1, "login throttled"):

- CSRF: every UI route that takes a POST (enumerated from the app's URL map) refuses a request without its
  CSRF token, with a forged one and with another session's, with 400 and a clear message, changing nothing;
- session fixation: a session cookie from before sign-in (or planted by someone else) is never the signed-in
  one, and a CSRF token issued before sign-in is void after it; forged and foreign-key cookies sign no one in;
- login throttling (web/logins.py): after 5 failed attempts for a username from one address, or 20 from one
  address, within 15 minutes, further attempts from there (the correct password too) are refused with 429,
  Retry-After and a clear message until the window has passed; failures at a username from addresses it never
  signed in from delay the next such attempt, doubling, while the owner's own addresses stay open — a stranger
  cannot lock a colleague out; counted in the database, so it holds across worker processes and concurrent
  requests;
- password hashing: argon2id within OWASP's recommendation, older hashes rehashed at sign-in;
- security log lines for sign-in: who, what, when (UTC), where, with control and format characters removed."""
import datetime
import logging
import re
import threading

import pytest
from argon2 import PasswordHasher

from engine import clock, org
from web.logging_setup import Formatter
from models import (ApiToken, Application, AuditRecord, Evidence, InnovationResult, KnownAddress, LoginAttempt,
                    Participation, Requirement, User, UserSession, database)

import security_support as sec
from web_fixtures import PASSWORD, Site, error_message, login, make_app, quick_passwords, raw
from web_fixtures import app, csrf_app  # noqa: F401  (fixtures)

WINDOW = datetime.timedelta(minutes=15)


def session_cookie(client):
    cookie = client.get_cookie('session')
    return cookie.value if cookie else None


def signed_in(client):
    response = client.get('/team')
    return not (response.status_code == 302 and response.location.startswith('/login'))


def csrf_token(response):
    return re.search(r'name="csrf_token" value="([^"]+)"', raw(response)).group(1)


def csrf_login(client, username):
    response = client.post('/login', data={'username': username, 'password': PASSWORD,
                                           'csrf_token': csrf_token(client.get('/login'))})
    assert response.status_code == 302, response.status_code
    return client


# --- CSRF on every form ----------------------------------------------------------------------------------------

def snapshot():
    """What a refused request must leave untouched."""
    return (AuditRecord.select().count(),
            sorted((p.id, p.state, p.version) for p in Participation.select()),
            sorted((a.id, a.state, a.version, a.decision_id) for a in Application.select()),
            sorted((e.id, e.text, e.status) for e in Evidence.select()), InnovationResult.select().count(),
            sorted((t.id, t.revoked_at is None) for t in ApiToken.select()),
            sorted((u.id, u.display_name) for u in User.select()),
            sorted((s.id, s.user_id, s.key_hash) for s in UserSession.select()),
            sorted((r.id, r.title_zh, r.active) for r in Requirement.select()))


def csrf_forms(arena):
    """(who, data) per UI POST endpoint: a request that would go through with its token."""
    k = arena.known()
    return {
        'auth.login': (None, {'username': 'leader1', 'password': PASSWORD}),
        'auth.logout': ('leader1', {}),
        'auth.language': ('leader1', {'next': '/team'}),
        'account.create': ('leader1', {'name': '对接'}),
        'account.revoke': ('leader1', {}),
        'account.end_session': ('leader1', {}),
        'account.end_other_sessions': ('leader1', {}),
        'team.enrol': ('leader3', {}),
        'team.evidence': ('leader1', {'version': k['p1_version'], 'text': '改写'}),
        'team.new_application': ('chair1', {'campaign_id': k['campaign'], 'year': '2023', 'tier': 'learning_team'}),
        'team.new_innovation': ('leader1', {'campaign_id': k['campaign'], 'year': '2026', 'title': 't',
                                            'topic': 'cost'}),
        'review.act': ('leader1', {'event': 'withdraw', 'version': k['p1_version'], 'reason': '退出'}),
        'review.bulk': ('chair2', {'items': f'participation:{k["p3"]}:{k["p3_version"]}:approve_stage'}),
        'union.edit_requirement': ('staff', {'version': k['campaign_version'], 'title_zh': '改', 'active': 'true'}),
        'union.commendations': ('staff', {'doc_number': 'D9', 'title': 'T', 'year': '2024',
                                          'application_ids': k['closed']}),
        'union.org_import': ('staff', {}),
    }


@pytest.fixture
def csrf_arena(csrf_app, world):
    quick_passwords()
    return sec.Arena(world)


def test_every_ui_post_route_refuses_a_missing_forged_or_foreign_csrf_token(csrf_app, csrf_arena):
    forms = csrf_forms(csrf_arena)
    rules = [r for r in csrf_app.url_map.iter_rules() if 'POST' in r.methods and not r.rule.startswith('/api/')]
    assert {r.endpoint for r in rules} == set(forms), 'a new form: add it to csrf_forms'
    values = sec.url_values(csrf_arena)
    foreign = csrf_token(csrf_login(csrf_app.test_client(), 'staff2').get('/account/tokens'))
    clients = {}
    for rule in rules:
        who, data = forms[rule.endpoint]
        url = sec.build_url(csrf_app, rule, values)
        if who not in clients:
            clients[who] = csrf_login(csrf_app.test_client(), who) if who else csrf_app.test_client()
        client = clients[who]
        own = csrf_token(client.get('/account/tokens' if who else '/login'))
        before = snapshot()
        for token in (None, 'forged-token', own[:-4] + 'AAAA', foreign):
            payload = dict(data, **({'csrf_token': token} if token else {}))
            response = client.post(url, data=payload)
            assert response.status_code == 400, (rule.rule, token, response.status_code)
            title, status, message = error_message(response)
            assert status == '400' and 'CSRF' in message, (rule.rule, message)
            assert snapshot() == before, (rule.rule, token)
        assert signed_in(client) == bool(who), rule.rule          # a refused logout signed no one out


def test_the_same_requests_with_their_token_go_through(csrf_app, csrf_arena):
    """The control: what the previous test sends is refused only for its token."""
    forms = csrf_forms(csrf_arena)
    values = sec.url_values(csrf_arena)
    values['participation_id'] = csrf_arena.p1.id
    for rule in csrf_app.url_map.iter_rules():
        if rule.endpoint not in forms or 'POST' not in rule.methods:
            continue
        who, data = forms[rule.endpoint]
        client = csrf_login(csrf_app.test_client(), who) if who else csrf_app.test_client()
        token = csrf_token(client.get('/account/tokens' if who else '/login'))
        response = client.post(sec.build_url(csrf_app, rule, values), data={**data, 'csrf_token': token})
        assert response.status_code != 400 and response.status_code < 500, (rule.rule, response.status_code)


# --- session fixation --------------------------------------------------------------------------------------

def test_a_session_from_before_sign_in_is_not_the_signed_in_one(app, world):
    quick_passwords()
    victim = app.test_client()
    victim.get('/login')
    victim.post('/language/en', data={'next': '/login'})           # the pre-login session holds something
    planted = session_cookie(victim)
    assert planted
    # someone who knows (or planted) the pre-login cookie …
    attacker = app.test_client()
    attacker.set_cookie('session', planted)
    assert login(victim, 'leader1').status_code == 302
    after = session_cookie(victim)
    assert after and after != planted
    assert signed_in(victim)
    # … is still signed out with it: the session was cleared and a new one issued at sign-in
    assert not signed_in(attacker)
    assert attacker.post(f'/teams/{world.t1.id}/enrol').location.startswith('/login')
    # the language chosen before signing in survives (it is not a privilege)
    assert 'lang="en"' in raw(victim.get(f'/teams/{world.t1.id}'))


def test_a_csrf_token_from_before_sign_in_is_void_after_it(csrf_app, world):
    quick_passwords()
    client = csrf_app.test_client()
    before = csrf_token(client.get('/login'))
    assert client.post('/login', data={'username': 'leader1', 'password': PASSWORD,
                                       'csrf_token': before}).status_code == 302
    response = client.post('/account/tokens', data={'name': 'x', 'csrf_token': before})
    assert response.status_code == 400 and 'CSRF' in error_message(response)[2]
    assert ApiToken.select().count() == 0
    after = csrf_token(client.get('/account/tokens'))
    assert after != before
    assert client.post('/account/tokens', data={'name': 'x', 'csrf_token': after}).status_code == 201


def test_forged_and_foreign_session_cookies_sign_no_one_in(app, db, tmp_path, world):
    quick_passwords()
    client = app.test_client()
    login(client, 'leader1')
    genuine = session_cookie(client)
    key = app.session_interface.get_signing_serializer(app).loads(genuine)['_user_id']   # the real session key
    import base64
    import json
    forged_payload = base64.urlsafe_b64encode(json.dumps(
        {'_user_id': key, '_fresh': True}).encode()).decode().rstrip('=')
    other_app = make_app(tmp_path, SECRET_KEY='another-installations-key')
    with other_app.test_client() as foreign_client:
        login(foreign_client, 'leader1')
        foreign = session_cookie(foreign_client)
    for cookie in (forged_payload, forged_payload + '.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA', genuine[:-3] + 'AAA',
                   foreign, '', 'x' * 3000, genuine.replace('.', '', 1)):
        other = app.test_client()
        other.set_cookie('session', cookie)
        assert not signed_in(other), cookie[:40]


# --- login throttling --------------------------------------------------------------------------------------------

@pytest.fixture
def site(app, world):
    site_ = Site(app, world)
    yield site_
    clock.set_now(None)


def attempt(client, username, password='wrong-password', ip='10.0.0.1'):
    return client.post('/login', data={'username': username, 'password': password},
                       environ_base={'REMOTE_ADDR': ip})


def refused(response, longest=15 * 60):
    assert response.status_code == 429, response.status_code
    message = sec.ui_message(response)
    assert '登录失败次数过多' in message and '分钟后再试' in message, message
    assert 1 <= int(response.headers['Retry-After']) <= longest
    return int(response.headers['Retry-After'])


def at(start, seconds):
    clock.set_now(start + datetime.timedelta(seconds=seconds))


def test_five_failures_from_one_address_refuse_that_address_even_the_right_password_until_the_window_passes(site):
    start = datetime.datetime(2026, 11, 26, 8, 0, 0)
    client = site.app.test_client()
    for i in range(5):
        at(start, i)
        assert attempt(client, 'leader1').status_code == 401
    at(start, 10)
    wait = refused(attempt(client, 'leader1', PASSWORD))
    assert 880 <= wait <= 15 * 60 and not signed_in(client)
    # other people from the same address are not refused
    assert attempt(site.app.test_client(), 'chair1', PASSWORD).status_code == 302
    # refused attempts do not count: the lock ends 15 minutes after the failures, however often one knocks
    for minute in range(1, 15):
        at(start, minute * 60)
        refused(attempt(client, 'leader1', PASSWORD))
    clock.set_now(start + WINDOW + datetime.timedelta(seconds=1))
    assert attempt(client, 'leader1', PASSWORD).status_code == 302 and signed_in(client)


def test_a_stranger_failing_at_another_address_does_not_lock_the_owner_out(site):
    """Issue 9 item 5: five (or fifty) wrong passwords for a colleague's username from the stranger's address do
    not stop the colleague signing in from theirs — an address they never used before too."""
    start = datetime.datetime(2026, 11, 26, 8, 0, 0)
    stranger = site.app.test_client()
    for i in range(50):
        at(start, i)
        assert attempt(stranger, 'leader1', ip='10.6.6.6').status_code in (401, 429)
    refused(attempt(stranger, 'leader1', PASSWORD, ip='10.6.6.6'))      # the stranger's address: throttled
    owner = site.app.test_client()
    assert attempt(owner, 'leader1', PASSWORD, ip='10.1.1.1').status_code == 302 and signed_in(owner)
    # only five were ever checked: the other 45 were refused before their password was
    assert LoginAttempt.select().where(LoginAttempt.ip == '10.6.6.6', LoginAttempt.success == False).count() == 5  # noqa


def test_guessing_over_many_addresses_is_slowed_by_a_doubling_delay_that_spares_the_owners_own_address(site):
    """Failures at one username from addresses it never signed in from: after 10 (LOGIN_DELAY_AFTER), each next
    guess from such an address waits 30 s after the latest failure, then 60, 120 … at most an hour; the owner's
    own address (where they signed in before) is not delayed, however long the guessing goes on."""
    start = datetime.datetime(2026, 11, 26, 8, 0, 0)
    at(start, 0)
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.1.1.1').status_code == 302   # the office PC
    addresses = (f'198.51.100.{i}' for i in range(1, 250))
    for i in range(10):                                   # ten guesses from ten addresses: no delay yet
        at(start, 60 + i)
        assert attempt(site.app.test_client(), 'leader1', ip=next(addresses)).status_code == 401
    now, waits = 69, []
    for expected in (30, 60, 120, 240, 480, 960, 1920, 3600, 3600):
        # a guess right after the latest failure is refused (and not counted) for `expected` seconds …
        at(start, now + 1)
        waits.append(refused(attempt(site.app.test_client(), 'leader1', ip=next(addresses)), longest=3600))
        assert expected - 1 <= waits[-1] <= expected + 1, (expected, waits)
        # … meanwhile the owner signs in from the office as usual …
        assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.1.1.1').status_code == 302
        # … and once it has passed, one more guess is checked (and fails), which doubles the delay
        now += expected
        at(start, now)
        assert attempt(site.app.test_client(), 'leader1', ip=next(addresses)).status_code == 401
    # the owner at an address of their own is never delayed, but at a new one they are, like everyone
    at(start, now + 1)
    refused(attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.2.2.2'), longest=3600)
    # other usernames are not affected
    assert attempt(site.app.test_client(), 'chair1', PASSWORD, ip=next(addresses)).status_code == 302


def test_the_delay_counts_failures_of_the_last_day_and_a_known_address_for_thirty_days(site):
    start = datetime.datetime(2026, 11, 26, 8, 0, 0)
    at(start, 0)
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.1.1.1').status_code == 302
    for i in range(10):
        at(start, 10 + i)
        assert attempt(site.app.test_client(), 'leader1', ip=f'198.51.100.{i}').status_code == 401
    at(start, 30)
    refused(attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.2.2.2'))
    at(start, 24 * 3600 + 60)                      # a day later the guesses are forgotten
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.2.2.2').status_code == 302
    for i in range(10):
        at(start, 29 * 24 * 3600 + i)
        assert attempt(site.app.test_client(), 'leader1', ip=f'198.51.100.{i}').status_code == 401
    # 29 days after the last sign-in there, the office is still known; after 31, it is an address like any other
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.1.1.1').status_code == 302
    for i in range(10):
        at(start, 61 * 24 * 3600 + i)
        assert attempt(site.app.test_client(), 'leader1', ip=f'198.51.100.{i}').status_code == 401
    at(start, 61 * 24 * 3600 + 20)
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.2.2.2').status_code == 429
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.1.1.1').status_code == 429


def test_a_successful_sign_in_clears_the_failures_from_its_address(site):
    client = site.app.test_client()
    for _ in range(4):
        assert attempt(client, 'leader1').status_code == 401
    assert attempt(client, 'leader1', PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(site.app.test_client(), 'leader1').status_code == 401
    assert attempt(site.app.test_client(), 'leader1', PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_refuse_it_whatever_the_username(site):
    client = site.app.test_client()
    for i in range(20):
        assert attempt(client, f'guess{i}', ip='192.0.2.7').status_code == 401
    refused(attempt(client, 'chair1', PASSWORD, ip='192.0.2.7'))
    refused(attempt(client, 'nobody', ip='192.0.2.7'))
    # another address, and the same people from it, are not affected
    assert attempt(client, 'chair1', PASSWORD, ip='192.0.2.8').status_code == 302
    # a good sign-in from the guessing address does not reset it
    assert LoginAttempt.select().where(LoginAttempt.ip == '192.0.2.7', LoginAttempt.success == False).count() == 20  # noqa


def test_the_limits_hold_across_worker_processes(site, db, tmp_path):
    """Two app instances (two gunicorn workers) share the attempts through the database."""
    other = make_app(tmp_path)
    for i in range(5):
        app_ = site.app if i % 2 else other
        assert attempt(app_.test_client(), 'staff').status_code == 401
    refused(attempt(site.app.test_client(), 'staff', PASSWORD))
    refused(attempt(other.test_client(), 'staff', PASSWORD))


def concurrently(site, count, username, ips):
    """`count` guesses at `username` at once (from ips[i]); their statuses."""
    statuses, barrier = [], threading.Barrier(count)

    def guess(ip):
        client = site.app.test_client()
        barrier.wait()
        try:
            statuses.append(attempt(client, username, ip=ip).status_code)
        finally:
            if not database.is_closed():
                database.close()

    threads = [threading.Thread(target=guess, args=(ips[i],)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(statuses) == count and set(statuses) <= {401, 429}, statuses
    return statuses


def test_concurrent_guesses_never_get_past_the_limit(site):
    """Each attempt is recorded before its password is checked and counts every other one: of 12 guesses at
    once from one address, at most 5 are checked; the rest are refused."""
    statuses = concurrently(site, 12, 'secretary1', ['10.0.0.1'] * 12)
    assert 1 <= statuses.count(401) <= 5 and statuses.count(429) >= 7, statuses
    refused(attempt(site.app.test_client(), 'secretary1', PASSWORD))


def test_concurrent_guesses_from_many_addresses_never_get_past_the_delay(site):
    """The delay counts attempts in flight too: of 16 guesses at once from 16 addresses, at most 10 are checked."""
    statuses = concurrently(site, 16, 'secretary1', [f'203.0.113.{i}' for i in range(16)])
    assert 1 <= statuses.count(401) <= 10 and statuses.count(429) >= 6, statuses


def test_an_office_signing_in_at_once_from_one_address_is_not_refused(site):
    """The address limit counts finished failures only: with 30 sign-ins of colleagues still in flight from one
    NAT address (more than its limit of 20), the next colleague gets in; the (username, address) limit and the
    username's delay still count pending attempts at the same account."""
    now = datetime.datetime(2026, 11, 26, 9, 0, 0)
    clock.set_now(now)
    for i in range(30):
        LoginAttempt.create(username=f'colleague{i}', ip='10.9.9.9', at=now, success=None)
    assert attempt(site.app.test_client(), 'leader1', PASSWORD, ip='10.9.9.9').status_code == 302
    for _ in range(5):
        LoginAttempt.create(username='secretary1', ip='10.1.1.1', at=now - datetime.timedelta(minutes=1),
                            success=None)
    refused(attempt(site.app.test_client(), 'secretary1', PASSWORD, ip='10.1.1.1'))
    for i in range(5):
        LoginAttempt.create(username='secretary1', ip=f'10.3.3.{i}', at=now, success=None)
    refused(attempt(site.app.test_client(), 'secretary1', PASSWORD, ip='10.2.2.2'))


def test_attempts_are_stored_cleaned_and_pruned_after_a_day(site):
    start = datetime.datetime(2026, 11, 1, 8, 0)
    clock.set_now(start)
    attempt(site.app.test_client(), 'bad\x00name\r\n' + 'x' * 100)
    stored = LoginAttempt.get()
    assert '\x00' not in stored.username and '\n' not in stored.username and len(stored.username) <= 60
    assert stored.success is False and stored.at == start and stored.ip == '10.0.0.1'
    clock.set_now(start + datetime.timedelta(days=1, minutes=1))
    assert attempt(site.app.test_client(), 'leader1', PASSWORD).status_code == 302
    assert [a.username for a in LoginAttempt.select()] == ['leader1']
    assert [(k.username, k.ip) for k in KnownAddress.select()] == [('leader1', '10.0.0.1')]


def test_behind_a_proxy_the_address_comes_from_x_forwarded_for(db, tmp_path, world):
    quick_passwords()
    app_ = make_app(tmp_path, PROXY_COUNT=1)
    client = app_.test_client()
    for i in range(20):
        client.post('/login', data={'username': f'g{i}', 'password': 'x'},
                    headers={'X-Forwarded-For': '203.0.113.5'}, environ_base={'REMOTE_ADDR': '127.0.0.1'})
    assert LoginAttempt.select().where(LoginAttempt.ip == '203.0.113.5').count() == 20
    response = client.post('/login', data={'username': 'leader1', 'password': PASSWORD},
                           headers={'X-Forwarded-For': '198.51.100.1'}, environ_base={'REMOTE_ADDR': '127.0.0.1'})
    assert response.status_code == 302            # the proxy's own address was not locked


# --- the security log --------------------------------------------------------------------------------------

def test_sign_ins_are_logged_with_who_what_when_where_and_no_injection(site, caplog):
    client = site.app.test_client()
    hostile = 'eve\r\n2026-01-01 INFO login succeeded: username="admin"\x1b[2J\u202e\u2028" ip=1.1.1.1'
    with caplog.at_level(logging.INFO, logger='chuangzheng.security'):
        for _ in range(5):
            attempt(client, hostile, ip='10.1.2.3')
        attempt(client, hostile, ip='10.1.2.3')
        attempt(client, 'leader1', PASSWORD, ip='10.1.2.4')
    records = [r for r in caplog.records if r.name == 'chuangzheng.security']
    lines = [r.getMessage() for r in records]
    assert len(lines) == 7
    for line in lines:
        assert not re.search(r'[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e]', line), repr(line)
    # when, in UTC ISO 8601: added by the log's formatter (tests/test_security_log.py checks the whole line)
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', Formatter().formatTime(records[0]))
    failed, refused_, ok = lines[0], lines[5], lines[6]
    # the username is kept (without its control characters) in one quoted, escaped field: it can forge
    # neither another line nor another field of this one
    quoted = r'"(?:[^"\\]|\\.)*"'
    fields = re.fullmatch(rf'event=login outcome=failed user=- username=({quoted}) client=(\S+) object=- '
                          rf'reason="wrong username or password"', failed)
    assert fields, failed
    assert fields.group(1).startswith('"eve2026-01-01 INFO login succeeded: username=\\"admin\\"[2J')
    assert fields.group(2) == '10.1.2.3'
    assert refused_.startswith('event=login outcome=throttled user=- username="eve')
    assert refused_.endswith('client=10.1.2.3 object=- reason="too many failed attempts for this username from this address"')
    assert ok == f'event=login outcome=succeeded user={site.world.leader1.id} username=leader1 client=10.1.2.4 ' \
                 f'object=- reason=-'
    levels = [r.levelno for r in caplog.records if r.name == 'chuangzheng.security']
    assert levels[:6] == [logging.WARNING] * 6 and levels[6] == logging.INFO


def test_the_throttling_message_is_translated(site):
    client = site.app.test_client()
    client.post('/language/en', data={'next': '/login'})
    for _ in range(5):
        attempt(client, 'leader3')
    response = attempt(client, 'leader3', PASSWORD)
    assert response.status_code == 429
    assert 'Too many failed sign-in attempts' in sec.ui_message(response)


# --- password hashing (SPEC §6 "morning rush", §7 "memory-hard") -------------------------------------------------

# OWASP Password Storage Cheat Sheet, argon2id: equivalent configurations (memory in KiB, iterations), one lane
OWASP_ARGON2ID = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]
OLD_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)     # argon2-cffi's default, used before


def test_passwords_are_hashed_with_argon2id_within_owasps_recommendation():
    params = org.HASH_PARAMETERS
    assert any(params['memory_cost'] >= m and params['time_cost'] >= t for m, t in OWASP_ARGON2ID), params
    assert params['parallelism'] >= 1
    stored = org.hash_password('correct horse')
    assert stored.startswith(f"$argon2id$v=19$m={params['memory_cost']},t={params['time_cost']},"
                             f"p={params['parallelism']}$")


def test_an_old_64_mib_hash_signs_in_and_is_then_rehashed_to_the_current_parameters(site):
    old = OLD_HASHER.hash(PASSWORD)
    User.update(password_hash=old).where(User.username == 'leader1').execute()
    client = site.app.test_client()
    assert attempt(client, 'leader1').status_code == 401
    assert User.get(User.username == 'leader1').password_hash == old          # a wrong password changes nothing
    assert attempt(client, 'leader1', PASSWORD).status_code == 302 and signed_in(client)
    new = User.get(User.username == 'leader1').password_hash
    assert new != old and not PasswordHasher(**org.HASH_PARAMETERS).check_needs_rehash(new)
    assert PasswordHasher().verify(new, PASSWORD)
    # the new hash signs in, and is kept as it is
    assert attempt(site.app.test_client(), 'leader1', PASSWORD).status_code == 302
    assert User.get(User.username == 'leader1').password_hash == new


def test_a_password_changed_while_its_old_hash_was_checked_is_not_overwritten(world):
    user = User.get(User.username == 'leader1')
    user.password_hash = OLD_HASHER.hash(PASSWORD)
    User.update(password_hash=user.password_hash).where(User.id == user.id).execute()
    reset = org.hash_password('the new one')
    User.update(password_hash=reset).where(User.id == user.id).execute()      # set-password, meanwhile
    assert org.check_password(user, PASSWORD)               # the copy read before the change still verifies …
    assert User.get_by_id(user.id).password_hash == reset   # … but does not replace the new password
