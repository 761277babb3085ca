"""End to end in a real headless Chromium: a team's stage review, its 学习型班组 application from draft to
commendation, and the audit of it all, done by clicking through the web UI as each person would.

Set-up (before the server starts) uses the engine directly; during the journey nothing but the browser
(and, for the 公示 ending, the scheduler command `flask --app web tick` in its own process) touches the
application. Screenshots of the main pages land in artifacts/screenshots/."""
import contextlib
import os
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import engine
from models import Campaign, Participation, Requirement, create_schema, open_database

from browser_support import SCREENSHOTS, Browser, LiveServer, browser_missing, make_driver, run_cli
from conftest import World
from scenarios import participation_in

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or '')]

AUDIT_KEY = 'browser-test-audit-key'
RETURN_REASON = '职工学习档案不全，请补充近三个月的培训记录'
DOC_NUMBER = '货工〔2026〕8号'


def seed(url):
    """The organisation of conftest.World, a running campaign with a 0-day 公示, and:
    装卸一班 enrolled (approved) with evidence for every 普及阶段 requirement but the last one;
    装卸二班 (the chair's own team) and 调度班 (another branch) each with a stage submitted for review."""
    database_ = open_database(url)
    if not url.startswith('sqlite'):
        database_.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        database_.execute_sql('CREATE SCHEMA public')
    create_schema()
    world = World()
    Campaign.update(settings={'notice_days': 0}).where(Campaign.id == world.campaign.id).execute()
    world.campaign = Campaign.get_by_id(world.campaign.id)
    world.launch()
    part = engine.fire(world.enrol(), 'approve_enrolment', world.chair1)
    requirements = list(Requirement.select().where(Requirement.campaign == world.campaign,
                                                   Requirement.stage == 'popularization',
                                                   Requirement.active == True)  # noqa: E712
                        .order_by(Requirement.position))
    for req in requirements[:-1]:
        engine.record_evidence(part, req.id, world.leader1, text=f'已完成：{req.title_zh}')
        part = Participation.get_by_id(part.id)
    own = participation_in(world, 'submitted', team=world.t2, leader=world.chair1)
    other = participation_in(world, 'submitted', team=world.t3, leader=world.leader3)
    ids = {
        'campaign': world.campaign.id, 't1': world.t1.id, 't2': world.t2.id, 't3': world.t3.id,
        'p1': part.id, 'p2': own.id, 'p2_version': own.version, 'p3': other.id, 'p3_version': other.version,
        'last_requirement': requirements[-1], 'requirement_count': len(requirements),
    }
    database_.close()
    return ids


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """The seeded database, the app serving it on a free loopback port, and one Chromium driving it."""
    from web import create_app
    from models import database
    tmp = tmp_path_factory.mktemp('browser')
    url = os.environ.get('TEST_DATABASE_URL') or f'sqlite:///{tmp}/browser.db'
    with contextlib.ExitStack() as cleanup:
        patch = pytest.MonkeyPatch()
        cleanup.callback(patch.undo)
        patch.setenv('CHUANGZHENG_UPLOADS', str(tmp / 'uploads'))
        patch.setenv('CHUANGZHENG_AUDIT_KEY', AUDIT_KEY)
        ids = seed(url)
        app = create_app({'DATABASE_URL': url, 'SECRET_KEY': 'browser-test-secret-key'})
        cleanup.callback(lambda: database.is_closed() or database.close())
        os.makedirs(SCREENSHOTS, exist_ok=True)
        server = LiveServer(app, os.path.join(os.path.dirname(SCREENSHOTS), 'browser-server.log')).start()
        cleanup.callback(server.stop)
        driver = make_driver(str(tmp / 'chromium-profile'))
        cleanup.callback(driver.quit)
        browser = Browser(driver, server)
        browser.ids, browser.database_url, browser.tmp = ids, url, tmp
        yield browser
        errors = server.recorder.server_errors()
        assert not errors, f'server errors (see artifacts/browser-server.log): {errors}'


def assert_not_found_page(b):
    """What someone who may not see an object meets: the page for one that does not exist."""
    heading = b.visible('section.error-page h1').text
    assert '页面不存在' in heading and '404' in heading, heading


# --- the journey --------------------------------------------------------------------------------

def test_stage_review_application_and_commendation_by_clicking(site):
    b, ids = site, site.ids
    last = ids['last_requirement']
    team_url = f'/teams/{ids["t1"]}'
    part_url = f'/objects/participation/{ids["p1"]}'

    # The login page, then the team leader lands on the team page.
    b.go('/login')
    b.visible('#login-button')
    assert '登录' in b.text('h1')
    b.screenshot('01-login')
    b.login('leader1')
    assert b.path == team_url
    assert '装卸一班' in b.text('h1')
    assert b.state() == 'in_progress'
    assert '缺材料' in b.text(f'#req-{last.id}')

    # A team leader cannot open another team's page: for them it does not exist.
    b.go(f'/teams/{ids["t3"]}')
    assert_not_found_page(b)
    assert b.fetch(f'/teams/{ids["t3"]}') == 404
    b.screenshot('02-not-found-404')

    # The leader records the missing evidence (text and a file) and submits the stage.
    b.go(team_url)
    b.press(b.xpath(f'//details[.//button[@data-save="{last.code}"]]/summary'))
    form = b.visible(f'#req-{last.id} form')
    b.css('textarea[name=text]', within=form).send_keys('班组12名职工学习档案已建立，含培训与考试')
    upload = b.tmp / '职工学习档案.txt'
    upload.write_text('2026年职工学习档案（节选）\n', encoding='utf-8')
    b.css('input[type=file]', within=form).send_keys(str(upload))
    b.click(f'button[data-save="{last.code}"]')
    b.no_error_flash()
    assert '佐证材料已保存' in ' '.join(b.flashes('success'))
    assert '职工学习档案.txt' in b.text(f'#req-{last.id}')
    assert not b.all('#checklist .badge.red'), 'every requirement has evidence now'
    b.act('submit_stage')
    assert b.state() == 'submitted'
    assert not b.all('button[data-save]'), 'evidence is locked while under review'

    # The branch chair sees it in the inbox (also on a phone) and returns it with a reason.
    b.login('chair1')
    assert b.path == '/inbox'
    row = f'#inbox tr[data-type=participation][data-id="{ids["p1"]}"]'
    assert '装卸一班' in b.text(row)
    assert not b.all(f'#inbox tr[data-type=participation][data-id="{ids["p3"]}"]'), 'another branch is not here'
    b.screenshot('03-inbox')
    with b.phone():
        b.go('/inbox')
        b.screenshot('04-inbox-phone-390', full_page=False)
        phone_inbox_overflows = b.page_is_wider_than_screen()
    b.go('/inbox')
    b.click_and_load(b.css(f'{row} a'))
    assert b.path == part_url
    b.wait_for_diagram()
    assert b.all('#diagram svg'), 'the state diagram is drawn'
    b.screenshot('05-detail-participation')
    b.act('return_stage', reason=RETURN_REASON, checks=[f'input[name=requirement_ids][value="{last.id}"]'])
    assert b.state() == 'stage_returned'

    # The leader sees the reason, adds evidence to the returned item only, and resubmits.
    b.login('leader1')
    b.go(team_url)
    assert b.state() == 'stage_returned'
    assert RETURN_REASON in b.text(f'#req-{last.id}')
    assert len(b.all('button[data-save]')) == 1, 'only the returned item is open for editing'
    b.screenshot('06-team-returned')
    b.press(b.xpath(f'//details[.//button[@data-save="{last.code}"]]/summary'))
    text = b.visible(f'#req-{last.id} textarea[name=text]')
    text.send_keys('；已补充近三个月培训记录（3月、4月、5月）')
    b.click(f'button[data-save="{last.code}"]')
    b.no_error_flash()
    b.act('submit_stage')
    assert b.state() == 'submitted'

    # The chair approves: the 普及阶段 is reached.
    b.login('chair1')
    b.click_and_load(b.css(f'{row} a'))
    b.act('approve_stage')
    assert b.state() == 'stage_reached'

    # The leader applies for 学习型班组 and submits the application.
    b.login('leader1')
    b.go(team_url)
    assert b.state() == 'stage_reached'
    assert b.all('ol.steps li.done'), 'the stepper shows the stage reached'
    b.screenshot('07-team')
    with b.phone():
        b.go(team_url)
        b.screenshot('08-team-phone-390', full_page=False)
        phone_team_overflows = b.page_is_wider_than_screen()
    b.go(team_url)
    b.press(b.css('summary#new-application'))
    form = b.visible('#applications details[open] form')
    Select(b.css('select[name=tier]', within=form)).select_by_value('learning_team')
    b.css('textarea[name=statement]', within=form).send_keys('普及阶段已达标，六个一全部落实。')
    b.click_and_load(b.css('button.primary', within=form))
    b.no_error_flash()
    match = re.fullmatch(r'/objects/application/(\d+)', b.path)
    assert match, b.path
    app_url = b.path
    assert b.state() == 'draft'
    b.act('submit')
    assert b.state() == 'submitted'

    # The chair recommends it from the inbox with bulk approval.
    b.login('chair1')
    app_row = f'#inbox tr[data-type=application][data-id="{match.group(1)}"]'
    assert '学习型班组' in b.text(app_row)
    b.press(b.css(f'{app_row} input[name=items]'))
    b.css('input[name=reason]').send_keys('同意推荐')
    b.click('#bulk-approve')
    assert '已批量通过 1 项' in ' '.join(b.flashes('success'))
    assert not b.all(app_row)
    b.go(app_url)
    assert b.state() == 'recommended'

    # Two union staff score it; one approves it and publishes the 公示 notice.
    for judge, marks in (('staff', (18, 27, 26, 18)), ('staff2', (17, 26, 25, 19))):
        b.login(judge)
        assert b.all(f'#inbox tr[data-type=application][data-id="{match.group(1)}"]')
        b.go(app_url)
        fields = dict(zip(('criteria_organisation', 'criteria_learning', 'criteria_innovation',
                           'criteria_atmosphere'), marks))
        b.act('score', fields=fields)
        assert b.state() == 'recommended'
    scores = b.text('main table')
    assert '周干事' in scores and '89' in scores and '吴干事' in scores and '87' in scores
    b.act('approve')
    assert b.state() == 'approved'
    b.act('publish_notice')
    assert b.state() == 'publicized'
    assert '公示截止' in b.text('dl.kv')

    # The 公示 period (0 days in this campaign) ends: the scheduler closes it, in its own process.
    result = run_cli(b.database_url, 'tick', audit_key=AUDIT_KEY)
    assert result.returncode == 0, result.stderr
    assert "'notices_closed': 1" in result.stdout, result.stdout
    b.go(app_url)
    assert b.state() == 'notice_closed'
    assert b.timeline_events()[-1] == 'close_notice'

    # Union staff: the campaign dashboard, the ranking, and the 表彰决定.
    b.click('a[href="/campaigns"]')
    assert b.path == f'/campaigns/{ids["campaign"]}'
    assert '一分会' in b.text('#branch-progress') and b.all('#participation svg.chart')
    b.screenshot('09-campaign-dashboard')
    b.click('a[href$="/evaluation"]')
    ranked = b.text('section[data-tier=learning_team]')
    assert '装卸一班' in ranked and '88' in ranked   # the judges' average
    b.screenshot('10-evaluation')
    b.click('a[href$="/commendations"]')
    assert '装卸一班' in b.text('#waiting')
    assert b.css('#waiting input[name=application_ids]').is_selected()
    b.css('input[name=doc_number]').send_keys(DOC_NUMBER)
    b.click('#issue-decision')
    b.no_error_flash()
    assert DOC_NUMBER in ' '.join(b.flashes('success'))
    assert '学习型班组：装卸一班' in b.text('main')
    b.screenshot('11-commendations')
    b.go(app_url)
    assert b.state() == 'commended'
    assert DOC_NUMBER in b.text('dl.kv')

    # The auditor: every step in order, with names and reasons; no buttons; the chain verifies.
    b.login('auditor')
    assert b.path == '/audit'
    b.screenshot('12-audit-log')
    Select(b.css('#filters select[name=object_type]')).select_by_value('application')
    b.css('#filters input[name=object_id]').send_keys(match.group(1))
    b.click('#filters button.primary')
    logged = [tr.find_elements(By.TAG_NAME, 'td')[3].text for tr in b.all('#audit-table tr[data-seq]')]
    assert logged == ['表彰', '公示结束', '发布公示', '评审通过', '评分', '评分', '推荐上报', '提交申报',
                      '新建申报'], logged   # newest first
    b.click_and_load(b.css('#audit-table tr[data-seq] a'))
    assert b.path == app_url
    assert b.timeline_events() == ['create', 'submit', 'recommend', 'score', 'score', 'approve', 'publish_notice',
                                   'close_notice', 'commend']
    steps = b.all('ol.timeline > li')
    assert '张班长' in steps[1].text and '李主席' in steps[2].text and '同意推荐' in steps[2].text
    assert '周干事' in steps[3].text and '吴干事' in steps[4].text and '系统' in steps[7].text
    assert not b.all('button[data-event], summary[data-event], button[data-save]')
    assert b.present('#no-actions')
    b.wait_for_diagram()
    b.screenshot('13-detail-application-auditor')

    b.go(part_url)
    # a run of evidence edits by one person is condensed into one line with a count
    assert b.timeline_events() == ['enrol', 'approve_enrolment', 'edit_evidence', 'submit_stage', 'return_stage',
                                   'edit_evidence', 'submit_stage', 'approve_stage']
    assert f'×{ids["requirement_count"]}' in b.css('ol.timeline > li[data-event=edit_evidence]').text
    returned = b.css('ol.timeline > li[data-event=return_stage]').text
    assert '李主席' in returned and RETURN_REASON in returned
    assert not b.all('button[data-event], summary[data-event]') and b.present('#no-actions')

    b.click('nav a[href="/audit"]')
    b.click('#integrity-link')
    ok = b.visible('#integrity-ok').text
    assert '校验通过' in ok
    checkpoint = b.text('#checkpoint').strip()
    assert re.fullmatch(r'\d+:[0-9a-f]{64} at=\S+\+08:00 sig=[0-9a-f]{64}', checkpoint), checkpoint
    b.screenshot('14-integrity')
    if b.present('#verify-checkpoint'):       # verifying against a checkpoint kept outside the database
        b.css('textarea[name=checkpoints]').send_keys(checkpoint)
        b.click('#verify-checkpoint')
        assert '已对照 1 个保存的检查点' in b.visible('#integrity-ok').text
        assert checkpoint in b.text('main')

    # Phone-width pages fit the screen (many reviewers approve from their phones).
    assert not phone_inbox_overflows, 'the inbox is wider than a 390 px phone screen'
    assert not phone_team_overflows, 'the team page is wider than a 390 px phone screen'


# --- refusals -----------------------------------------------------------------------------------

def test_chair_cannot_approve_outside_branch_or_own_team(site):
    b, ids = site, site.ids
    b.login('chair1')

    # Another branch's team (调度班 of 二分会): for the chair it does not exist, nor does a forged approval.
    b.go(f'/objects/participation/{ids["p3"]}')
    assert_not_found_page(b)
    status = b.fetch(f'/act/participation/{ids["p3"]}',
                     {'event': 'approve_stage', 'version': str(ids['p3_version'])})
    assert status == 404

    # The chair's own team (装卸二班): visible as its leader, but no review buttons, and a forged
    # approval is refused.
    b.go(f'/objects/participation/{ids["p2"]}')
    assert b.state() == 'submitted'
    assert not b.all('[data-event=approve_stage], [data-event=return_stage]')
    status = b.fetch(f'/act/participation/{ids["p2"]}',
                     {'event': 'approve_stage', 'version': str(ids['p2_version'])})
    assert status == 403
    b.go(f'/objects/participation/{ids["p2"]}')
    assert b.state() == 'submitted'


def test_chairs_own_team_is_not_in_the_chairs_inbox(site):
    b, ids = site, site.ids
    b.login('chair1')
    b.go('/inbox')
    assert not b.all(f'#inbox tr[data-type=participation][data-id="{ids["p2"]}"]')


def test_auditor_reads_but_cannot_act(site):
    b, ids = site, site.ids
    b.login('auditor')
    b.go(f'/objects/participation/{ids["p3"]}')
    assert b.state() == 'submitted'
    assert not b.all('button[data-event], summary[data-event], details.act')
    assert b.present('#no-actions')
    status = b.fetch(f'/act/participation/{ids["p3"]}',
                     {'event': 'approve_stage', 'version': str(ids['p3_version'])})
    assert status == 403
    b.go(f'/objects/participation/{ids["p3"]}')
    assert b.state() == 'submitted'
    assert b.timeline_events()[-1] != 'approve_stage'
