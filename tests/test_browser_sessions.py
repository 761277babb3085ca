"""The account page's session list in a real headless Chromium, at desktop and phone size: signed in here and on
two other devices, the person sees all three (this one marked), ends one by clicking and then all the others.
Screenshots: artifacts/screenshots/20-account-sessions.png and 21-account-sessions-phone-390.png."""
import contextlib
import datetime
import os

import pytest

from models import UserSession, create_schema, database, open_database, utcnow
from web import sessions

from browser_support import SCREENSHOTS, Browser, LiveServer, browser_missing, make_driver
from conftest import World

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or '')]

PHONE = ('Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 '
         'Chrome/118.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560')
HOME_PC = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/119.0.0.0 Safari/537.36 Edg/119.0'


@pytest.fixture
def browser(tmp_path, monkeypatch):
    from web import create_app
    url = os.environ.get('TEST_DATABASE_URL') or f'sqlite:///{tmp_path}/browser.db'
    monkeypatch.setenv('CHUANGZHENG_UPLOADS', str(tmp_path / 'uploads'))
    db = open_database(url)
    if not url.startswith('sqlite'):
        db.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        db.execute_sql('CREATE SCHEMA public')
    create_schema()
    world = World()
    database.close()
    with contextlib.ExitStack() as cleanup:
        app = create_app({'DATABASE_URL': url, 'SECRET_KEY': 'browser-test-secret-key'})
        cleanup.callback(lambda: database.is_closed() or database.close())
        os.makedirs(SCREENSHOTS, exist_ok=True)
        server = LiveServer(app, os.path.join(os.path.dirname(SCREENSHOTS), 'browser-sessions-server.log')).start()
        cleanup.callback(server.stop)
        driver = make_driver(str(tmp_path / 'chromium-profile'))
        cleanup.callback(driver.quit)
        b = Browser(driver, server)
        b.world = world
        yield b
        assert not server.recorder.server_errors()


def other_devices(user):
    """The person's phone (signed in an hour ago on mobile data) and home PC (yesterday evening)."""
    now = utcnow()
    for agent, ip, ago in ((PHONE, '223.104.3.7', datetime.timedelta(hours=1)),
                           (HOME_PC, '116.228.5.21', datetime.timedelta(hours=15))):
        key = sessions.start(user, ip, agent, {})
        UserSession.update(created_at=now - ago, last_seen_at=now - ago + datetime.timedelta(minutes=20)).where(
            UserSession.key_hash == sessions.digest(key)).execute()
    database.close()


def test_the_session_list_on_desktop_and_phone_and_ending_sessions_by_clicking(browser):
    b = browser
    b.login('leader1')
    other_devices(b.world.leader1)
    b.click('#nav-account')
    assert b.path == '/account'
    items = b.all('#session-list > li')
    assert len(items) == 3
    text = b.text('#session-list')
    assert 'WeChat 8 · Android' in text and 'Edge 119 · Windows' in text and '当前会话' in text
    assert b.css('#session-list > li.current .badge').text == '当前会话'
    b.screenshot('20-account-sessions')
    with b.phone():
        b.go('/account')
        assert not b.page_is_wider_than_screen()
        b.screenshot('21-account-sessions-phone-390', full_page=False)
    # end the phone's session by clicking
    phone = UserSession.get(UserSession.ip == '223.104.3.7')
    database.close()
    b.click(f'#end-{phone.id}')
    assert b.path == '/account' and '已结束该会话' in b.flashes('success')[0]
    assert len(b.all('#session-list > li')) == 2
    b.click('#end-others')
    assert len(b.all('#session-list > li')) == 1 and not b.present('#end-others')
    # and finally this one: signed out
    b.click('#session-list > li.current button')
    assert b.path.startswith('/login')
    assert UserSession.select().count() == 0
    database.close()
