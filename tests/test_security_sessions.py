"""Several sessions per person (issue 9 item 9; SPEC §7: ASVS 7.2.4, 7.4.1, 7.4.3, 7.5.2): signing in on the phone
keeps the PC signed in; the account page lists every session (browser, address, times in China time) and ends
any of them, which makes that cookie useless at once; signing out ends its own session on the server; a session
idle for too long, beyond 20 per person, or of someone whose password was set anew ends too. The cookie carries
only a random key, the database only its hash."""
import datetime
import hashlib
import re

import pytest

from models import KnownAddress, User, UserSession, utcnow
from web import sessions

from web_fixtures import PASSWORD, error_message, flashes, raw, text
from test_schema_upgrade import empty_db, load_release  # noqa: F401  (a fixture)
from web_fixtures import app, site  # noqa: F401  (fixtures)

PC = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
PHONE = ('Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 '
         'Chrome/118.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560')


def sign_in(site, username='leader1', agent=PC, ip='10.0.0.1'):
    client = site.app.test_client()
    response = client.post('/login', data={'username': username, 'password': PASSWORD},
                           headers={'User-Agent': agent}, environ_base={'REMOTE_ADDR': ip})
    assert response.status_code == 302, response.status_code
    return client


def signed_in(client):
    response = client.get('/account')
    return response.status_code == 200


def cookie(client):
    return client.get_cookie('session').value


def rows(username='leader1'):
    return list(UserSession.select().join(User).where(User.username == username).order_by(UserSession.id))


def end(client, session_id):
    return client.post(f'/account/sessions/{session_id}/end')


def test_signing_in_on_the_phone_keeps_the_pc_signed_in_and_both_are_listed(site):
    pc = sign_in(site, agent=PC, ip='10.0.0.1')
    phone = sign_in(site, agent=PHONE, ip='223.104.3.7')
    assert signed_in(pc) and signed_in(phone)
    mine_pc, mine_phone = rows()
    assert (mine_pc.agent, mine_pc.ip) == ('Chrome 120 · Windows', '10.0.0.1')
    assert (mine_phone.agent, mine_phone.ip) == ('WeChat 8 · Android', '223.104.3.7')
    page = pc.get('/account')
    assert page.headers['Cache-Control'] == 'no-store'
    body = text(page)
    assert '登录会话' in body and 'Chrome 120 · Windows' in body and 'WeChat 8 · Android' in body
    assert '223.104.3.7' in body
    # times in China time (UTC+8)
    shown = (mine_phone.created_at + datetime.timedelta(hours=8)).strftime('%Y-%m-%d %H:%M')
    assert f'登录时间：{shown}' in body
    # the PC's own session is marked, and only the others can be ended without signing out
    current = re.search(r'<li id="session-(\d+)" class="current">', raw(page)).group(1)
    assert int(current) == mine_pc.id and '当前会话' in body
    assert f'/account/sessions/{mine_phone.id}/end' in raw(page) and '/account/sessions/end-others' in raw(page)
    # the name in the top bar leads to the account page
    assert 'href="/account" id="nav-account"' in raw(pc.get('/account/tokens'))


def test_ending_a_session_makes_its_cookie_useless_at_once(site):
    pc = sign_in(site, agent=PC)
    stolen = site.app.test_client()
    stolen.set_cookie('session', cookie(pc))            # a copy of the PC's cookie, elsewhere
    assert signed_in(stolen)
    phone = sign_in(site, agent=PHONE)
    pc_session = rows()[0]
    response = end(phone, pc_session.id)
    assert response.status_code == 303 and response.location == '/account'
    assert '已结束该会话' in flashes(phone.get('/account'), 'success')[0]
    assert not signed_in(pc) and not signed_in(stolen)
    assert pc.get('/team').location.startswith('/login')
    assert signed_in(phone) and [s.id for s in rows()] == [rows()[0].id] != [pc_session.id]
    # ended is ended: a second time, 404, and the PC signing in again gets a new session
    assert end(phone, pc_session.id).status_code == 404
    pc = sign_in(site, agent=PC)
    assert len(rows()) == 2 and pc_session.id not in {s.id for s in rows()}


def test_nobody_can_end_or_see_another_persons_session(site):
    leader = sign_in(site, 'leader1')
    chair = sign_in(site, 'chair1')
    theirs = rows('leader1')[0]
    response = end(chair, theirs.id)
    assert response.status_code == 404 and error_message(response)[1] == '404'
    assert end(chair, 10 ** 6).status_code == 404
    assert chair.post('/account/sessions/end-others').status_code == 303
    assert signed_in(leader) and rows('leader1') == [theirs]
    assert f'session-{theirs.id}"' not in raw(chair.get('/account'))


def test_signing_out_ends_only_its_own_session_on_the_server(site):
    pc = sign_in(site, agent=PC)
    phone = sign_in(site, agent=PHONE)
    copy = site.app.test_client()
    copy.set_cookie('session', cookie(pc))
    assert pc.post('/logout').location == '/login'
    assert [s.agent for s in rows()] == ['WeChat 8 · Android']
    assert not signed_in(pc) and not signed_in(copy) and signed_in(phone)


def test_ending_ones_own_session_signs_out_and_ending_all_others_keeps_it(site):
    first, second, third = (sign_in(site, agent=agent) for agent in (PC, PHONE, PC))
    response = third.post('/account/sessions/end-others')
    assert response.status_code == 303
    assert '已结束其他 2 个会话' in flashes(third.get('/account'), 'success')[0]
    assert not signed_in(first) and not signed_in(second) and signed_in(third)
    response = end(third, rows()[0].id)
    assert response.status_code == 302 and response.location == '/login'
    assert not signed_in(third) and rows() == []


def test_a_session_idle_for_longer_than_the_limit_ends(site):
    pc, phone = sign_in(site, agent=PC), sign_in(site, agent=PHONE)
    pc_session, phone_session = rows()
    now = utcnow()
    UserSession.update(last_seen_at=now - datetime.timedelta(days=7, minutes=1)).where(
        UserSession.id == pc_session.id).execute()
    UserSession.update(last_seen_at=now - datetime.timedelta(days=6, hours=23)).where(
        UserSession.id == phone_session.id).execute()
    assert not signed_in(pc) and signed_in(phone)
    assert [s.id for s in rows()] == [phone_session.id]
    # using a session notes it (at most once a minute): the phone is good for another 7 days
    assert rows()[0].last_seen_at >= now
    seen = rows()[0].last_seen_at
    assert signed_in(phone) and rows()[0].last_seen_at == seen


def test_a_person_keeps_at_most_20_sessions_the_least_recently_used_end(site):
    clients = [sign_in(site, agent=PC) for _ in range(sessions.MAX_PER_USER)]
    base = utcnow() - datetime.timedelta(minutes=30)
    for i, row in enumerate(rows()):             # the first signed in is the least recently used
        UserSession.update(last_seen_at=base + datetime.timedelta(seconds=i)).where(UserSession.id == row.id).execute()
    clients.append(sign_in(site, agent=PHONE))
    assert len(rows()) == sessions.MAX_PER_USER
    assert not signed_in(clients[0]) and all(signed_in(c) for c in clients[1:])


def test_a_new_password_ends_every_session(site, tmp_path):
    pc, phone = sign_in(site, agent=PC), sign_in(site, agent=PHONE)
    chair = sign_in(site, 'chair1')
    result = site.app.test_cli_runner().invoke(args=['set-password', 'leader1', '--password', 'a-new-one-9'])
    assert result.exit_code == 0 and 'sessions have ended' in result.output
    assert not signed_in(pc) and not signed_in(phone) and rows() == []
    assert signed_in(chair)


def test_the_cookie_holds_a_random_key_and_the_database_only_its_hash(site):
    client = sign_in(site)
    key = site.app.session_interface.get_signing_serializer(site.app).loads(cookie(client))['_user_id']
    assert len(key) == sessions.KEY_LENGTH and str(rows()[0].user_id) not in key.split(':')
    assert rows()[0].key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not UserSession.select().where(UserSession.key_hash == key).exists()
    # a cookie of the release before ("<user id>:<nonce>"), even properly signed, signs no one in
    old = site.app.test_client()
    with old.session_transaction() as session:
        session['_user_id'] = f'{rows()[0].user_id}:0123456789abcdef0123456789abcdef'
        session['_fresh'] = True
    assert not signed_in(old)
    # an inactive person's sessions sign no one in
    User.update(active=False).where(User.username == 'leader1').execute()
    assert not signed_in(client)


def test_the_account_page_in_english(site):
    client = sign_in(site, agent='curl/8.5.0')
    client.post('/language/en', data={'next': '/account'})
    body = text(client.get('/account'))
    assert 'Sessions' in body and 'This session' in body and 'Unknown browser' in body
    assert 'Signed in: ' in body and 'End all other sessions' not in body


@pytest.mark.parametrize('agent, described', [
    (PC, 'Chrome 120 · Windows'), (PHONE, 'WeChat 8 · Android'),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 '
     'Mobile/15E148 Safari/604.1', 'Safari 17 · iOS'),
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 '
     'Safari/537.36 Edg/120.0.2210.91', 'Edge 120 · Windows'),
    ('Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox 121 · Linux'),
    ('Mozilla/5.0 (Linux; Android 10; HarmonyOS) Chrome/99.0 DingTalk/7.0.40', 'DingTalk 7 · HarmonyOS'),
    ('<script>alert(1)</script>\r\n', ''), ('', ''), (None, ''), ('x' * 100000, ''),
])
def test_the_browser_is_described_by_fixed_names_only(agent, described):
    assert sessions.describe(agent) == described


def test_version_4_drops_the_one_session_nonce_and_adds_the_session_tables(empty_db):
    """A version 3 database: its people keep their rows (only the nonce column goes), the session and
    known-address tables appear empty; running the migration again changes nothing."""
    from models import database
    from models.migrations import MIGRATIONS, current_version, upgrade
    load_release(3)
    database.execute_sql("INSERT INTO \"user\" (username, display_name, password_hash, active, is_system, created_at, "
                         "session_nonce) VALUES ('old', '老用户', 'x', %s, %s, '2026-01-01 00:00:00', 'n0nce')"
                         .replace('%s', database.param), (True, False))
    applied = upgrade()
    assert 4 in [v for v, _ in applied] and current_version() == 4
    assert 'session_nonce' not in {c.name for c in database.get_columns('user')}
    assert User.get(User.username == 'old').display_name == '老用户'
    assert UserSession.select().count() == 0 and KnownAddress.select().count() == 0
    with database.atomic():
        MIGRATIONS[4][1](None)
