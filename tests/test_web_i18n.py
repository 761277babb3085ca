"""The English catalogue of the web UI: complete, compiled, and really used when the person switches language.

The msgids are the Chinese texts. When this fails with "missing English translations", run
web/translations/update.sh, translate the listed strings in web/translations/en/LC_MESSAGES/messages.po,
run the script again (it compiles the .mo) and commit both the .po and the .mo.
"""
import os
import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from conftest import _url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = os.path.join(ROOT, 'web', 'translations')
PO = os.path.join(TRANSLATIONS, 'en', 'LC_MESSAGES', 'messages.po')
MO = os.path.join(TRANSLATIONS, 'en', 'LC_MESSAGES', 'messages.mo')
HOW_TO_FIX = ('run web/translations/update.sh, translate these msgids in web/translations/en/LC_MESSAGES/'
              'messages.po (remove any "#, fuzzy" line), run the script again and commit the .po and the .mo')


def _key(message_id):
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def _extracted():
    """{msgid: [file:line, ...]} for every translatable string in web/**.py and web/templates/**.html,
    extracted the way web/translations/update.sh does (babel.cfg, Babel's default keywords)."""
    with open(os.path.join(ROOT, 'babel.cfg'), encoding='utf-8') as f:
        method_map, options_map = parse_mapping_cfg(f, filename='babel.cfg')
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS):
        found.setdefault(_key(message), []).append(f'{filename}:{lineno}')
    found.pop('', None)
    return found


def _po():
    with open(PO, 'rb') as f:
        return read_po(f)


def _translated(catalog):
    """{msgid: msgstr} of the entries that gettext will use (not fuzzy, not empty)."""
    return {_key(m.id): m.string for m in catalog
            if m.id and not m.fuzzy and m.string and (not isinstance(m.string, tuple) or all(m.string))}


@pytest.fixture(scope='module')
def extracted():
    return _extracted()


def test_extraction_sees_templates_and_python(extracted):
    # guards against a broken babel.cfg that silently extracts nothing (and so checks nothing)
    sources = {where.split(':')[0] for places in extracted.values() for where in places}
    assert any(s.startswith('web/templates/') for s in sources), sources
    assert any(s.startswith('web/views/') for s in sources), sources
    assert '待办' in extracted and '用户名或密码错误' in extracted


def test_every_message_has_an_english_translation(extracted):
    translated = _translated(_po())
    missing = sorted((places[0], msgid) for msgid, places in extracted.items() if msgid not in translated)
    assert not missing, (f'{len(missing)} missing English translations ({HOW_TO_FIX}):\n'
                         + '\n'.join(f'  {where}: {msgid}' for where, msgid in missing))


def test_translations_keep_their_placeholders():
    placeholder = re.compile(r'%\([a-z_]+\)[sd]|%[sd]')
    wrong = [(m.id, m.string) for m in _po() if m.id and m.string
             and sorted(placeholder.findall(_key(m.id))) != sorted(placeholder.findall(_key(m.string)))]
    assert not wrong, wrong


def test_compiled_catalogue_matches_the_po():
    with open(MO, 'rb') as f:
        compiled = {_key(m.id): m.string for m in read_mo(f) if m.id}
    expected = _translated(_po())
    stale = sorted(set(expected.items()) ^ set(compiled.items()))
    assert not stale, ('web/translations/en/LC_MESSAGES/messages.mo is stale; run web/translations/update.sh '
                       'and commit the .mo. Differences:\n' + '\n'.join(f'  {k}: {v}' for k, v in stale))


def test_error_page_titles_are_translated():
    # web/errors.py translates its TITLES from a variable, so extraction cannot see them at the call;
    # web/translations/dynamic_messages.py lists them for the extractor
    from web.errors import TITLES
    translated = _translated(_po())
    missing = [title for title in list(TITLES.values()) + ['出错了'] if title not in translated]
    assert not missing, f'add these to web/translations/dynamic_messages.py and translate them: {missing}'


# --- the running application --------------------------------------------------------------------------------

@pytest.fixture
def client(world, tmp_path):
    from models import database
    from web import create_app
    # the same database the `db` fixture opened (SQLite file in tmp_path, or $TEST_DATABASE_URL)
    app = create_app({'DATABASE_URL': _url(tmp_path), 'WTF_CSRF_ENABLED': False, 'TESTING': True})
    yield app.test_client()
    if not database.is_closed():
        database.close()


def _login(client, username):
    response = client.post('/login', data={'username': username, 'password': 'secret123'})
    assert response.status_code == 302, response.get_data(as_text=True)


def _page(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _badge(html, state):
    match = re.search(r'<span class="badge[^"]*" data-state="%s">([^<]*)</span>' % state, html)
    assert match, f'no badge for state {state}'
    return match.group(1)


def test_pages_are_chinese_by_default_and_switch_to_english_and_back(world, client):
    world.launch()
    world.enrol()                                    # 装卸一班 asks to join: state 'requested'
    _login(client, 'leader1')
    team_page = f'/teams/{world.t1.id}'

    html = _page(client, team_page)
    assert '<html lang="zh-CN">' in html
    assert '我的班组' in html and '评比申报' in html and '审批记录' in html
    assert 'My team' not in html and 'Approval history' not in html
    assert _badge(html, 'requested') == '报名待审'

    response = client.post('/language/en', data={'next': team_page})
    assert response.status_code == 302 and response.headers['Location'].endswith(team_page)
    html = _page(client, team_page)
    assert '<html lang="en">' in html
    assert 'My team' in html and 'Evaluation applications' in html and 'Approval history' in html
    assert '我的班组' not in html and '审批记录' not in html
    assert _badge(html, 'requested') == 'Enrolment requested'      # workflow labels follow the language
    assert 'Chuangzheng' in html and '>中文</button>' in html

    client.post('/language/zh', data={'next': team_page})
    html = _page(client, team_page)
    assert '<html lang="zh-CN">' in html and '我的班组' in html and 'My team' not in html
    assert _badge(html, 'requested') == '报名待审'


def test_reviewer_inbox_in_both_languages(world, client):
    world.launch()
    world.enrol()
    _login(client, 'chair1')
    html = _page(client, '/')                        # a branch chair lands on the inbox
    assert '<html lang="zh-CN">' in html and '待办' in html and '分会概况' in html
    assert _badge(html, 'requested') == '报名待审'

    client.post('/language/en')
    html = _page(client, '/')
    assert '<html lang="en">' in html and 'Inbox' in html and 'Branch overview' in html
    assert 'Approve selected' in html and '待办' not in html
    assert _badge(html, 'requested') == 'Enrolment requested'


def test_language_choice_survives_login_and_reaches_flash_messages(world, client):
    world.launch()
    client.post('/language/en')
    html = _page(client, '/login')
    assert '<html lang="en">' in html and 'Sign in' in html and 'Password' in html

    response = client.post('/login', data={'username': 'leader1', 'password': 'wrong'})
    assert response.status_code == 401 and 'Wrong username or password' in response.get_data(as_text=True)

    _login(client, 'leader1')                        # a new session at login keeps the language
    response = client.post(f'/teams/{world.t1.id}/enrol', follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'Enrolment submitted; it now waits for the branch to review it.' in html


def test_error_pages_in_english(world, client):
    _login(client, 'leader1')
    client.post('/language/en')
    response = client.get('/teams/999999')
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and 'Page not found' in html and 'Back to the home page' in html


def test_engine_refusals_speak_one_language(world, client):
    _login(client, 'leader1')
    # another team's page: for the leader it does not exist (the engine's words for a missing team)
    chinese = client.get(f'/teams/{world.t3.id}').get_data(as_text=True)
    assert '不存在或您无权查看' in chinese and 'not found' not in chinese
    client.post('/language/en')
    english = client.get(f'/teams/{world.t3.id}').get_data(as_text=True)
    assert f'team #{world.t3.id} not found or not yours to see' in english and '无权查看' not in english
