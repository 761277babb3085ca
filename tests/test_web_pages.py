"""Every page of the approval UI, for every role: who may open it (a role x page table), and what each person
sees there (SPEC §5): the team's stepper, checklist and timeline; the reviewer's inbox; union staff's
participation, ranking, commendation and Excel pages; the party secretary's branch overview; the auditor's
log, integrity status and CSV export."""
import csv
import datetime
import io
import itertools
import re

import openpyxl
import pytest

import engine
from engine import clock
from engine.chain import audit
from models import (audit_guards, Application, Attachment, AuditRecord, Campaign, CommendationDecision, Objection,
                    Participation, Requirement, Team, database, is_sqlite)

from conftest import set_state
from scenarios import LONG_AGO, application_in, innovation_in, participation_in
from web_fixtures import (action_events, ALL_USERS, enrolled, error_message, new_application, post_forms, raw, text)
from web_fixtures import app, site  # noqa: F401  (fixtures)

T1_READERS = {'leader1', 'chair1', 'secretary1', 'staff', 'staff2', 'auditor'}
T3_READERS = {'leader3', 'chair2', 'secretary2', 'staff', 'staff2', 'auditor'}
UNION = {'staff', 'staff2'}

# page -> the people who may open it. Everyone else signed in gets 404 from a page about an object they may not
# see at all (the answer for an object that does not exist), and 403 from any other page (SEERS below).
PAGES = {
    '/teams/{t1}': T1_READERS,
    '/teams/{t3}': T3_READERS,
    '/teams/{ot}': {'other_leader', 'other_staff', 'auditor'},
    '/objects/participation/{part1}': T1_READERS,
    '/objects/participation/{part3}': T3_READERS,
    '/objects/application/{app1}': T1_READERS,
    '/objects/innovation/{inn1}': T1_READERS,
    '/objects/campaign/{campaign}': UNION | {'auditor'},
    '/attachments/{att}': T1_READERS,
    '/branches/{b1}': {'chair1', 'secretary1', 'staff', 'staff2', 'auditor'},
    '/branches/{b2}': {'chair2', 'secretary2', 'staff', 'staff2', 'auditor'},
    '/campaigns/{campaign}': UNION,
    '/campaigns/{campaign}/evaluation': UNION,
    '/campaigns/{campaign}/commendations': UNION,
    '/campaigns/{campaign}/export.xlsx': UNION,
    '/org/import': UNION | {'other_staff'},
    '/audit': {'auditor'},
    '/audit/integrity': {'auditor'},
    '/audit/export.csv': {'auditor'},
    '/audit?object_type=participation&object_id={part1}': {'auditor'},
    '/inbox': set(ALL_USERS),        # everyone signed in; empty for those with nothing to review
    '/workflows': set(ALL_USERS),    # the workflow diagrams are no secret
}

CAMPAIGN_READERS = UNION | {'auditor'}
SEERS = {page: (CAMPAIGN_READERS if page.startswith('/campaigns/') else readers)
         for page, readers in PAGES.items() if '{' in page.split('?')[0]}      # pages about one object

# where the landing page and the menu entries send each person
REDIRECTS = {
    '/': {'leader1': '/team', 'chair1': '/inbox', 'secretary1': '/inbox', 'staff': '/inbox', 'auditor': '/audit',
          'other_leader': '/team', 'leader3': '/team'},
    '/team': {'leader1': '/teams/{t1}', 'chair1': '/teams/{t2}', 'leader3': '/teams/{t3}',
              'other_leader': '/teams/{ot}'},
    '/branches': {'chair1': '/branches/{b1}', 'secretary1': '/branches/{b1}', 'chair2': '/branches/{b2}',
                  'secretary2': '/branches/{b2}'},
    '/campaigns': {'staff': '/campaigns/{campaign}', 'staff2': '/campaigns/{campaign}'},
}

MISSING = ['/teams/99999', '/objects/participation/99999', '/objects/application/99999',
           '/objects/innovation/99999', '/objects/campaign/99999', '/objects/unit/1', '/objects/nonsense/1',
           '/attachments/99999', '/branches/99999', '/campaigns/99999', '/campaigns/99999/evaluation',
           '/campaigns/99999/commendations', '/campaigns/99999/export.xlsx', '/no/such/page',
           '/objects/participation/abc', '/teams/-1']


@pytest.fixture
def ids(site):
    """A launched campaign; 装卸一班 in progress with evidence and a file; 调度班 asking to enrol; a draft
    application and innovation result of 装卸一班."""
    world = site.world
    part1 = participation_in(world, 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    engine.record_evidence(part1, requirement.id, world.leader1, add_files=[('愿景.pdf', b'%PDF-1.4 vision')])
    part3 = world.enrol(world.t3, world.leader3)
    app1 = new_application(world)
    inn1 = innovation_in(world, 'draft')
    return {'t1': world.t1.id, 't2': world.t2.id, 't3': world.t3.id, 'ot': world.ot.id, 'b1': world.b1.id,
            'b2': world.b2.id, 'campaign': world.campaign.id, 'part1': part1.id, 'part3': part3.id,
            'app1': app1.id, 'inn1': inn1.id, 'att': Attachment.get().id}


@pytest.mark.parametrize('user', ALL_USERS)
def test_who_may_open_which_page(site, ids, user):
    client = site.client(user)
    got = {page: client.get(page.format(**ids)).status_code for page in PAGES}
    expected = {page: 200 if user in allowed else 404 if page in SEERS and user not in SEERS[page] else 403
                for page, allowed in PAGES.items()}
    assert {p: s for p, s in got.items() if s != expected[p]} == {}


@pytest.mark.parametrize('user', ALL_USERS)
def test_landing_page_and_menus_send_each_person_to_their_work(site, ids, user):
    client = site.client(user)
    for page, targets in REDIRECTS.items():
        response = client.get(page)
        if user in targets:
            assert (response.status_code, response.location) == (302, targets[user].format(**ids)), page
        elif page == '/':
            assert response.status_code == 302, page                   # somewhere, never an error
        elif page == '/team':                                          # leads no team: an empty list
            assert response.status_code == 200 and '您没有负责的班组' in text(response)
        elif page == '/campaigns' and user == 'other_staff':           # a unit without a campaign yet
            assert response.status_code == 200 and '暂无创建活动' in text(response)
        else:
            assert response.status_code == 403, (page, response.status_code)


@pytest.mark.parametrize('user', ['leader1', 'chair1', 'staff', 'auditor'])
def test_unknown_ids_and_pages_give_a_friendly_404(site, ids, user):
    client = site.client(user)
    for page in MISSING:
        response = client.get(page)
        assert response.status_code == 404, page
        assert error_message(response)[0] == '页面不存在', page


def test_forbidden_page_explains_itself(site, ids):
    response = site.client('auditor').get(f'/campaigns/{ids["campaign"]}')
    assert response.status_code == 403
    title, status, message = error_message(response)
    assert (title, status) == ('无权访问', '403') and '仅处工会可用' in message


def test_another_teams_page_reads_as_missing(site, ids):
    response = site.client('leader1').get(f'/teams/{ids["t3"]}')
    assert response.status_code == 404
    title, status, message = error_message(response)
    assert (title, status) == ('页面不存在', '404') and message == f'班组 #{ids["t3"]} 不存在或您无权查看'
    assert error_message(site.client('leader1').get('/teams/99999'))[2] == '班组 #99999 不存在或您无权查看'


def test_menu_shows_each_role_its_own_entries(site, ids):
    menus = {user: re.findall(r'<a href="([^"]+)"[^>]*>', raw(site.client(user).get('/inbox')).split('</nav>')[0])
             for user in ('leader1', 'chair1', 'secretary1', 'staff', 'auditor')}
    assert '/team' in menus['leader1'] and '/inbox' not in menus['leader1']
    assert {'/team', '/inbox', '/branches'} <= set(menus['chair1']) and '/campaigns' not in menus['chair1']
    assert {'/inbox', '/branches'} <= set(menus['secretary1'])
    assert {'/inbox', '/campaigns'} <= set(menus['staff']) and '/audit' not in menus['staff']
    assert '/audit' in menus['auditor'] and not {'/inbox', '/campaigns', '/team'} & set(menus['auditor'])


# --- team leader --------------------------------------------------------------------------------------

def test_team_page_before_enrolment_offers_enrolment_to_the_leader_only(site):
    world = site.world
    world.launch()
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    assert page.status_code == 200
    assert 'id="enrol"' in raw(page) and f'/teams/{world.t1.id}/enrol' in post_forms(page)
    assert re.findall(r'<li class="([^"]*)">', raw(page).split('class="steps"')[1].split('</ol>')[0]) == ['', '', '']
    chair_view = site.client('chair1').get(f'/teams/{world.t1.id}')
    assert 'id="enrol"' not in raw(chair_view) and '本班组尚未报名' in text(chair_view)


def test_team_page_shows_stepper_checklist_evidence_and_actions(site):
    world = site.world
    part = participation_in(world, 'requested')
    engine.fire(part, 'approve_enrolment', world.chair1, reason='同意参加')
    part = Participation.get_by_id(part.id)
    requirements = list(Requirement.select().where(Requirement.campaign == world.campaign,
                                                   Requirement.stage == 'popularization')
                        .order_by(Requirement.position))
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    body = text(page)
    # stepper: the first stage is the current one, none reached yet
    steps = re.findall(r'<li class="([^"]*)">([^<]*)</li>', raw(page).split('class="steps"')[1].split('</ol>')[0])
    assert steps == [('current', '普及阶段'), ('', '巩固提高阶段'), ('', '创新发展阶段')]
    # the checklist of the current stage: every 六个一 item, each with its evidence and an edit form
    for requirement in requirements:
        assert requirement.title_zh in body
        assert f'/participations/{part.id}/evidence/{requirement.id}' in post_forms(page)
    assert '材料：一个班组共同愿景' in body
    # the leader's next step is offered; reviewers' steps are not
    assert 'data-event="submit_stage"' in raw(page) and 'data-event="approve_stage"' not in raw(page)
    assert 'data-event="withdraw"' in raw(page)
    # the timeline names who decided, in which role, and why
    timeline = body.split('id="timeline"')[1]
    assert '同意报名' in timeline and '李主席' in timeline and '分会主席' in timeline and '同意参加' in timeline
    assert '报名参加' in timeline and '张班长' in timeline


def test_team_page_missing_evidence_is_flagged(site):
    world = site.world
    world.launch()
    part = set_state(world.enrol(), 'in_progress')
    body = text(site.client('leader1').get(f'/teams/{world.t1.id}'))
    assert body.count('缺材料') == Requirement.select().where(Requirement.campaign == world.campaign,
                                                               Requirement.stage == part.stage).count()


def test_stepper_marks_reached_stages_done(site):
    world = site.world
    part = participation_in(world, 'in_progress', stage='consolidation')
    Participation.update(reached_stage='popularization').where(Participation.id == part.id).execute()
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    classes = re.findall(r'<li class="([^"]*)">', raw(page).split('class="steps"')[1].split('</ol>')[0])
    assert classes == ['done', 'current', '']
    assert '团队学习机制' in text(page) and '一个班组共同愿景' not in text(page)   # the checklist of the stage at hand


def test_locked_evidence_has_no_edit_form(site):
    world = site.world
    participation_in(world, 'submitted')
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    assert not [f for f in post_forms(page) if '/evidence/' in f]
    assert 'data-event="submit_stage"' not in raw(page)
    assert '阶段验收待审' in text(page)


def test_team_page_lists_applications_and_innovation_results(site):
    world = site.world
    participation_in(world, 'in_progress')
    application = new_application(world, tier='learning_team')
    result = innovation_in(world, 'submitted')
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    body = text(page)
    applications = body.split('id="applications"')[1].split('id="innovations"')[0]
    assert f'/objects/application/{application.id}' in applications and '学习型班组' in applications
    assert '草稿' in applications
    innovations = body.split('id="innovations"')[1].split('id="timeline"')[0]
    assert f'/objects/innovation/{result.id}' in innovations and '装车效率提升' in innovations
    assert '工效' in innovations and '分会审核中' in innovations
    assert f'/teams/{world.t1.id}/applications' in post_forms(page)
    assert f'/teams/{world.t1.id}/innovations' in post_forms(page)


def test_chair_sees_a_team_page_without_the_leaders_forms(site):
    world = site.world
    participation_in(world, 'in_progress')
    page = site.client('chair1').get(f'/teams/{world.t1.id}')
    assert page.status_code == 200 and '一个班组共同愿景' in text(page)
    forms = [f for f in post_forms(page) if f not in ('/logout', '/language/en')]
    assert forms == []
    assert action_events(page) == []


def test_leader_of_several_teams_gets_a_list(site):
    world = site.world
    from engine.organisation import org
    org.assign_role(world.leader1, 'team_leader', team=world.t2)
    page = site.client('leader1').get('/team')
    assert page.status_code == 200
    assert f'/teams/{world.t1.id}' in raw(page) and f'/teams/{world.t2.id}' in raw(page)


def test_attachment_download_is_the_uploaded_file(site, ids):
    response = site.client('chair1').get(f'/attachments/{ids["att"]}')
    assert response.status_code == 200 and response.data == b'%PDF-1.4 vision'
    assert response.mimetype == 'application/pdf'
    assert 'attachment' in response.headers['Content-Disposition']


# --- reviewers ------------------------------------------------------------------------------------------

def _inbox_rows(response):
    return re.findall(r'<tr data-type="(\w+)" data-id="(\d+)">(.*?)</tr>', raw(response), re.S)


def test_inbox_is_oldest_first_with_counts_and_overdue_flags(site):
    world = site.world
    now = datetime.datetime.utcnow()
    part = set_state(enrolled(world), 'requested', state_since=now - datetime.timedelta(hours=1))
    result = set_state(innovation_in(world, 'submitted'), 'submitted', state_since=LONG_AGO)
    application = set_state(new_application(world), 'submitted', state_since=now - datetime.timedelta(days=3))
    page = site.client('chair1').get('/inbox')
    rows = _inbox_rows(page)
    assert [(t, int(i)) for t, i, _ in rows] == [('innovation', result.id), ('application', application.id),
                                                 ('participation', part.id)]
    # the nav count and the page heading count what waits
    assert '<span class="count">3</span>' in raw(page) and '<small class="muted">3</small>' in raw(page)
    # only what waits longer than the review period (7 days by default) is flagged overdue
    overdue = {(t, int(i)) for t, i, cells in rows if '已超期' in cells and 'overdue' in cells}
    assert overdue == {('innovation', result.id)}
    # each row offers the bulk approval of its event
    cells = {t: c for t, _, c in rows}
    assert f'value="innovation:{result.id}:{result.version}:approve"' in cells['innovation']
    assert f'value="application:{application.id}:{application.version}:recommend"' in cells['application']
    assert f'value="participation:{part.id}:{part.version}:approve_enrolment"' in cells['participation']
    assert '装卸一班' in cells['participation'] and '报名待审' in text(page)


def test_inbox_order_follows_waiting_time(site):
    world = site.world
    world.launch()
    records = [world.enrol(), innovation_in(world, 'submitted'), set_state(new_application(world), 'submitted')]
    base = datetime.datetime(2026, 1, 1)
    for record, days in zip(records, (2, 0, 1)):
        set_state(record, record.state, state_since=base + datetime.timedelta(days=days))
    rows = _inbox_rows(site.client('chair1').get('/inbox'))
    assert [t for t, _, _ in rows] == ['innovation', 'application', 'participation']


def test_chairs_own_team_waits_for_the_party_secretary(site):
    world = site.world
    world.launch()
    own = world.enrol(world.t2, world.chair1)
    chair_rows = _inbox_rows(site.client('chair1').get('/inbox'))
    assert ('participation', str(own.id)) not in [(t, i) for t, i, _ in chair_rows]
    secretary_page = site.client('secretary1').get('/inbox')
    rows = _inbox_rows(secretary_page)
    assert [(t, i) for t, i, _ in rows] == [('participation', str(own.id))]
    assert f'participation:{own.id}:{own.version}:approve_enrolment' in rows[0][2]
    assert _inbox_rows(site.client('chair2').get('/inbox')) == []
    assert 'class="count"' not in raw(site.client('chair2').get('/inbox'))


def test_empty_inbox(site):
    page = site.client('chair2').get('/inbox')
    assert page.status_code == 200 and '暂无待办事项' in text(page) and 'id="bulk-approve"' not in raw(page)


def test_detail_page_shows_evidence_history_diagram_and_the_reviewers_actions(site, ids):
    world = site.world
    part = Participation.get_by_id(ids['part1'])
    engine.fire(part, 'submit_stage', world.leader1)
    page = site.client('chair1').get(f'/objects/participation/{part.id}')
    body = text(page)
    assert page.status_code == 200
    assert '装卸一班' in body and '阶段验收待审' in body
    assert '材料：一人一份个人学习计划' in body
    assert f'/attachments/{ids["att"]}' in body and '愿景.pdf' in body
    assert {'approve_stage', 'return_stage'} <= set(action_events(page))
    assert f'/act/participation/{part.id}' in post_forms(page)
    # the history: each step with its actor
    history = body.split('审批记录')[1]
    for event_label in ('报名参加', '修改佐证材料', '提交阶段验收'):
        assert event_label in history
    assert '张班长' in history
    # the state diagram with the current state highlighted
    assert 'stateDiagram-v2' in body and 'class submitted current' in body


def test_detail_page_of_a_return_needs_a_reason_field(site):
    world = site.world
    part = participation_in(world, 'submitted')
    page = raw(site.client('chair1').get(f'/objects/participation/{part.id}'))
    return_form = page.split('<summary data-event="return_stage">')[1].split('</form>')[0]
    assert re.search(r'<textarea name="reason"[^>]*required', return_form)
    assert 'name="requirement_ids"' in return_form


def test_detail_page_for_the_team_shows_no_review_buttons(site):
    world = site.world
    part = participation_in(world, 'submitted')
    page = site.client('leader1').get(f'/objects/participation/{part.id}')
    events = set(action_events(page))
    assert 'approve_stage' not in events and 'return_stage' not in events
    assert 'withdraw' in events


def test_application_detail_shows_score_sheet_and_objections(site):
    world = site.world
    application = application_in(world, 'publicized', event='approve')        # scored by two judges
    Objection.create(application=application, lodged_by=world.leader3, text='材料不实')
    page = site.client('staff').get(f'/objects/application/{application.id}')
    body = text(page)
    assert '评分' in body and '周干事' in body and '吴干事' in body and '90' in body
    assert '材料不实' in body and '待处理' in body
    assert {'dismiss_objection', 'uphold_objection'} <= set(action_events(page))


# --- union staff ----------------------------------------------------------------------------------------

def test_campaign_page_shows_participation_per_branch_against_the_target(site):
    world = site.world
    participation_in(world, 'in_progress')                       # 一分会: 1 of 2 teams take part
    world.enrol(world.t3, world.leader3)                         # 二分会: asked, not yet taking part
    page = site.client('staff').get(f'/campaigns/{world.campaign.id}')
    body = text(page)
    assert page.status_code == 200
    assert '目标 50%' in body and '1/3（33%）' in body
    rows = re.findall(r'<tr><td>([^<]+)</td><td>(\d+/\d+)</td>\s*<td>.*?</div>(\d+)%</td>',
                      raw(page).split('id="branch-progress"')[1], re.S)
    assert rows == [('一分会', '1/2', '50'), ('二分会', '0/1', '0')]
    # the chart: one bar per branch, green when on target, amber when short, and the target line
    chart = raw(page).split('<svg')[1].split('</svg>')[0]
    assert chart.count('fill="#16a34a"') == 1 and chart.count('fill="#d97706"') == 1
    assert 'stroke-dasharray' in chart and '>50%</text>' in chart
    # advancing is offered, with the missed target spelled out and an override asking for a reason
    assert '<summary data-event="advance">' in raw(page)
    assert '未达到' in body and '二分会参与率0%' in body
    assert 'name="override" value="true"' in raw(page)
    # the stage checklist is editable data
    assert '一个班组共同愿景' in body and '/requirements/' in ' '.join(post_forms(page))


def test_campaign_page_target_follows_the_stage(site):
    world = site.world
    world.launch()
    set_state(world.campaign, 'consolidation')
    assert '目标 80%' in text(site.client('staff').get(f'/campaigns/{world.campaign.id}'))


def test_draft_campaign_offers_launch(site):
    page = site.client('staff').get(f'/campaigns/{site.world.campaign.id}')
    assert 'data-event="launch"' in raw(page) and '筹备中' in text(page)


def test_evaluation_page_ranks_by_score_within_tier_quotas(site):
    world = site.world
    Campaign.update(settings={'quotas': {'learning_team': 20, 'excellent_team': 2, 'model_team': 3}}).where(
        Campaign.id == world.campaign.id).execute()
    a1 = application_in(world, 'recommended', team=world.t1, leader=world.leader1)
    a3 = application_in(world, 'approved', team=world.t3, leader=world.leader3)
    a2 = application_in(world, 'recommended', team=world.t2, leader=world.chair1)
    set_state(a1, 'recommended', total_score=71.5)
    set_state(a3, 'approved', total_score=88.0)
    page = site.client('staff').get(f'/campaigns/{world.campaign.id}/evaluation')
    assert page.status_code == 200
    section = raw(page).split('data-tier="excellent_team"')[1].split('</section>')[0]
    assert '名额 1/2' in section
    ranking = re.findall(r'<tr><td>(\d+)</td><td><a href="/objects/application/(\d+)">([^<]+)</a></td>\s*<td>([^<]+)</td>',
                         section)
    assert [(rank, int(app_id), score) for rank, app_id, _, score in ranking] == [
        ('1', a3.id, '88.0'), ('2', a1.id, '71.5'), ('3', a2.id, '未评分')]
    assert '2026' in text(page)


def test_commendation_page_lists_waiting_teams_and_issued_decisions(site):
    world = site.world
    waiting = application_in(world, 'notice_closed')
    decision = CommendationDecision.create(unit=world.unit, year=2026, doc_number='货工〔2026〕7号',
                                           title='关于表彰学习型班组的决定')
    commended = application_in(world, 'commended', team=world.t3, leader=world.leader3)
    Application.update(decision=decision).where(Application.id == commended.id).execute()
    page = site.client('staff').get(f'/campaigns/{world.campaign.id}/commendations')
    body = text(page)
    waiting_table = raw(page).split('id="waiting"')[1].split('</table>')[0]
    assert f'name="application_ids" value="{waiting.id}"' in waiting_table and '装卸一班' in waiting_table
    assert '调度班' not in waiting_table
    assert '货工〔2026〕7号 · 关于表彰学习型班组的决定' in body
    assert '学习型优胜班组：调度班' in body
    assert 'id="issue-decision"' in raw(page)


def test_excel_export_opens_with_openpyxl(site):
    world = site.world
    participation_in(world, 'stage_reached')
    Participation.update(reached_stage='popularization').execute()
    application = application_in(world, 'commended', team=world.t3, leader=world.leader3)
    decision = CommendationDecision.create(unit=world.unit, year=2026, doc_number='货工〔2026〕8号', title='表彰')
    Application.update(decision=decision, total_score=86.5).where(Application.id == application.id).execute()
    innovation_in(world, 'approved')
    Team.update(name='=HYPERLINK("http://x")').where(Team.id == world.t1.id).execute()
    response = site.client('staff').get(f'/campaigns/{world.campaign.id}/export.xlsx')
    assert response.status_code == 200
    assert response.mimetype == 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    assert f'campaign-{world.campaign.id}.xlsx' in response.headers['Content-Disposition']
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ['参与情况', '评比申报', '创新成果']
    participation = [list(r) for r in book['参与情况'].iter_rows(values_only=True)]
    assert participation[0] == ['分会', '班组', '状态', '当前阶段', '已达标阶段']
    names = {row[1]: row for row in participation[1:]}
    assert names["'=HYPERLINK(\"http://x\")"][2:] == ['阶段达标', '普及阶段', '巩固提高阶段']   # not a formula
    assert names['调度班'][0] == '二分会'
    applications = [list(r) for r in book['评比申报'].iter_rows(values_only=True)]
    assert [2026, '二分会', '调度班', '学习型优胜班组', '学习型优胜班组', '已表彰', 86.5, '货工〔2026〕8号'] in applications
    innovations = [list(r) for r in book['创新成果'].iter_rows(values_only=True)]
    assert innovations[1][3:] == ['装车效率提升', '工效', '分会已通过']


def test_excel_export_speaks_the_readers_language(site):
    world = site.world
    participation_in(world, 'stage_reached')
    client = site.client('staff')
    client.post('/language/en')
    response = client.get(f'/campaigns/{world.campaign.id}/export.xlsx')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ['Participation', 'Evaluation applications', 'Innovation results']
    rows = [list(r) for r in book['Participation'].iter_rows(values_only=True)]
    assert rows[0] == ['Branch', 'Team', 'Status', 'Current stage', 'Stage reached']
    assert rows[1][:2] == ['一分会', '装卸一班'], 'names stay as entered'
    assert list(next(book['Evaluation applications'].iter_rows(values_only=True)))[3:5] == [
        'Honour applied for', 'Honour awarded']


def test_org_import_page_shows_the_upload_form(site):
    page = site.client('staff').get('/org/import')
    assert page.status_code == 200 and 'type="file" name="file"' in raw(page)
    assert 'enctype="multipart/form-data"' in raw(page)


# --- party secretary -------------------------------------------------------------------------------------

def test_branch_overview_is_read_only_and_copies_the_secretary_on_decisions(site):
    world = site.world
    part = enrolled(world)
    engine.fire(part, 'approve_enrolment', world.chair1, reason='同意，抓紧落实')
    new_application(world)
    page = site.client('secretary1').get(f'/branches/{world.b1.id}')
    body = text(page)
    assert page.status_code == 200 and '分会概况（只读）' in body
    teams = raw(page).split('id="branch-teams"')[1].split('</table>')[0]
    assert '装卸一班' in teams and '装卸二班' in teams and '调度班' not in teams
    assert '创建中' in text(page).split('id="branch-teams"')[1] and '未报名' in teams
    copied = body.split('抄送我的审批决定')[1]
    assert '装卸一班' in copied and '同意报名' in copied and '李主席' in copied and '同意，抓紧落实' in copied
    assert '报名参加' not in copied                     # the team's own steps are not decisions
    assert [f for f in post_forms(page) if f not in ('/logout', '/language/en')] == []
    assert action_events(page) == []


def test_secretary_reads_the_branchs_objects_without_review_buttons(site):
    world = site.world
    part = participation_in(world, 'submitted')
    page = site.client('secretary1').get(f'/objects/participation/{part.id}')
    assert page.status_code == 200 and 'id="no-actions"' in raw(page)


# --- auditor ------------------------------------------------------------------------------------------------

def _log_seqs(response):
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', raw(response))]


@pytest.fixture
def history(site):
    """Some history: 装卸一班 enrolled and approved, 调度班 enrolled and returned."""
    world = site.world
    part = enrolled(world)
    engine.fire(part, 'approve_enrolment', world.chair1, reason='同意')
    part3 = world.enrol(world.t3, world.leader3)
    engine.fire(part3, 'return_enrolment', world.chair2, reason='=SUM(A1) 请补充')
    return {'part1': part.id, 'part3': part3.id}


def test_audit_log_lists_everything_newest_first(site, history):
    page = site.client('auditor').get('/audit')
    seqs = _log_seqs(page)
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == AuditRecord.select().count()
    assert '李主席' in text(page) and '同意报名' in text(page)
    assert f'/objects/participation/{history["part1"]}' in raw(page)


@pytest.mark.parametrize('query, wanted', [
    ('object_type=participation&object_id={part1}',
     lambda r, h: r.object_type == 'participation' and r.object_id == h['part1']),
    ('actor=chair2', lambda r, h: r.actor_role == 'branch_chair' and r.object_id == h['part3']),
    ('event=approve_enrolment', lambda r, h: r.event == 'approve_enrolment'),
    ('object_type=campaign', lambda r, h: r.object_type == 'campaign'),
    ('since={today}&until={today}', lambda r, h: True),
    ('until=2020-01-01', lambda r, h: False),
    ('since=2999-01-01', lambda r, h: False),
    ('actor=nobody', lambda r, h: False),
    ('object_type=participation&event=return_enrolment&actor=chair2',
     lambda r, h: r.event == 'return_enrolment'),
])
def test_audit_log_filters(site, history, query, wanted):
    today = clock.china_today().isoformat()
    page = site.client('auditor').get('/audit?' + query.format(today=today, **history))
    assert page.status_code == 200
    expected = sorted((r.seq for r in AuditRecord.select() if wanted(r, history)), reverse=True)
    assert _log_seqs(page) == expected
    if not expected:
        assert '没有符合条件的记录' in text(page)


def test_audit_log_dates_are_china_days(site, history):
    """01:00 on 4 December in China is 17:00 on 3 December UTC: the auditor typing 2026-12-04 finds it."""
    seq = AuditRecord.select().order_by(AuditRecord.seq.desc()).first().seq
    audit_guards.drop_guards()
    database.execute_sql(f"UPDATE audit_record SET occurred_at = '2026-12-03 17:00:00' WHERE seq = {seq}")
    client = site.client('auditor')
    assert seq in _log_seqs(client.get('/audit?since=2026-12-04&until=2026-12-04'))
    assert seq not in _log_seqs(client.get('/audit?since=2026-12-03&until=2026-12-03'))


@pytest.mark.parametrize('query', ['object_type=bogus', 'object_id=abc', 'object_id=0', 'since=yesterday',
                                   'event=DROP%20TABLE', 'before=-5', 'until=2026-13-45', 'actor=' + 'x' * 61])
def test_audit_log_bad_filter_is_a_friendly_422(site, history, query):
    page = site.client('auditor').get('/audit?' + query)
    assert page.status_code == 422
    assert '筛选条件有误' in error_message(page)[2]


def test_audit_log_pages_through_older_records(site):
    world = site.world
    part = participation_in(world, 'in_progress')
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.code == 'shared_vision')
    for i in range(60):
        engine.record_evidence(Participation.get_by_id(part.id), requirement.id, world.leader1, text=f'第{i}稿')
    total = AuditRecord.select().count()
    assert total > 60
    client = site.client('auditor')
    first = client.get('/audit')
    seqs = _log_seqs(first)
    assert len(seqs) == 50
    next_link = re.search(r'<a href="([^"]+)" id="next-page">', raw(first)).group(1).replace('&amp;', '&')
    assert f'before={seqs[-1]}' in next_link
    second = client.get(next_link)
    rest = _log_seqs(second)
    assert rest == list(range(seqs[-1] - 1, 0, -1)) and len(seqs) + len(rest) == total
    assert 'id="next-page"' not in raw(second)
    # paging keeps the filters
    filtered = client.get('/audit?event=edit_evidence')
    link = re.search(r'<a href="([^"]+)" id="next-page">', raw(filtered)).group(1).replace('&amp;', '&')
    assert 'event=edit_evidence' in link
    assert set(r.event for r in AuditRecord.select().where(AuditRecord.seq.in_(_log_seqs(client.get(link))))) == {
        'edit_evidence'}


def test_auditor_reads_any_objects_history(site, history):
    client = site.client('auditor')
    for object_type, object_id in (('participation', history['part1']), ('participation', history['part3']),
                                   ('campaign', site.world.campaign.id)):
        page = client.get(f'/objects/{object_type}/{object_id}')
        assert page.status_code == 200
        events = re.findall(r'<li data-event="(\w+)">', raw(page))
        # every record in order; a run of evidence edits may be condensed into one line
        assert events == [event for event, _ in itertools.groupby(r.event for r in audit.history(object_type,
                                                                                                   object_id))]
        assert 'id="no-actions"' in raw(page)
    assert '=SUM(A1) 请补充' in text(client.get(f'/objects/participation/{history["part3"]}'))


def test_integrity_status_ok_and_checkpoint(site, history):
    page = site.client('auditor').get('/audit/integrity')
    assert page.status_code == 200
    count = AuditRecord.select().count()
    assert f'校验通过：{count} 条记录' in text(page) and 'id="integrity-ok"' in raw(page)
    assert audit.checkpoint() + ' at=' in text(page) and 'id="development-key"' in raw(page)
    assert '之后追加的记录由下一个检查点证明' in text(page)          # what a checkpoint proves, said precisely


def test_integrity_page_reports_missing_database_guards(site, history):
    audit_guards.drop_guards()
    page = site.client('auditor').get('/audit/integrity')
    assert page.status_code == 200 and 'id="guards-broken"' in raw(page) and 'id="integrity-ok"' not in raw(page)
    guard = 'audit_record_no_update' if is_sqlite() else 'audit_record_append_only'
    assert f'database guard {guard} is missing' in text(page)


def test_integrity_status_names_the_first_tampered_record(site, history):
    audit_guards.drop_guards()
    database.execute_sql("UPDATE audit_record SET to_state = 'stage_reached' WHERE seq = 4")
    page = site.client('auditor').get('/audit/integrity')
    assert page.status_code == 200 and 'id="integrity-broken"' in raw(page)
    assert '第 4 条记录起哈希链不一致' in text(page) and 'record 4' in text(page)


def test_forged_erasure_is_flagged_where_the_history_is_read(site, history):
    """A name and reason replaced under a fake erased_at must not read as genuine in the object's history, the
    team's timeline, the audit log or the API."""
    approval = AuditRecord.get(AuditRecord.event == 'approve_enrolment')
    audit_guards.drop_guards()
    database.execute_sql("UPDATE audit_personal SET actor_name = '王秀梅', reason = '材料齐全，同意', "
                         "erased_at = '2026-12-01 00:00:00' WHERE seq = %d" % approval.seq)
    for who, page in (('auditor', f'/objects/participation/{history["part1"]}'), ('leader1', f'/teams/{site.world.t1.id}'),
                      ('auditor', '/audit')):
        body = raw(site.client(who).get(page))
        assert body.count('data-integrity="tampered"') == 1 and '记录被篡改' in body, page
    assert 'data-integrity' not in raw(site.client('auditor').get(f'/objects/participation/{history["part3"]}'))


def test_csv_export_of_the_log(site, history):
    response = site.client('auditor').get('/audit/export.csv')
    assert response.status_code == 200 and response.mimetype == 'text/csv'
    assert 'attachment' in response.headers['Content-Disposition']
    body = response.get_data(as_text=True)
    assert body.startswith('\ufeff')
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:5] == ['seq', 'occurred_at_utc', 'object_type', 'object_id', 'event']
    assert [int(r[0]) for r in rows[1:]] == sorted((r.seq for r in AuditRecord.select()), reverse=True)
    returned = next(r for r in rows[1:] if r[4] == 'return_enrolment')
    assert returned[8] == '刘主席' and returned[10] == "'=SUM(A1) 请补充"     # no formula for Excel
    assert all(r[1].endswith('Z') for r in rows[1:])


def test_csv_export_honours_the_filters(site, history):
    response = site.client('auditor').get('/audit/export.csv?actor=chair1')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))[1:]
    assert [r[4] for r in rows] == ['approve_enrolment']
    assert site.client('auditor').get('/audit/export.csv?since=nonsense').status_code == 422


def test_auditor_pages_have_no_action_buttons(site, ids):
    client = site.client('auditor')
    world = site.world
    for page in (f'/teams/{ids["t1"]}', f'/objects/participation/{ids["part1"]}',
                 f'/objects/application/{ids["app1"]}', f'/objects/innovation/{ids["inn1"]}',
                 f'/objects/campaign/{ids["campaign"]}', f'/branches/{ids["b1"]}', '/audit', '/audit/integrity',
                 '/inbox', f'/teams/{world.ot.id}'):
        response = client.get(page)
        assert response.status_code == 200, page
        assert [f for f in post_forms(response) if f not in ('/logout', '/language/en')] == [], page
        assert action_events(response) == [], page
        assert 'type="file"' not in raw(response), page


def test_integrity_against_a_checkpoint_kept_outside_the_database(site, history):
    client = site.client('auditor')
    kept = audit.checkpoint()
    page = client.get('/audit/integrity?checkpoint=' + kept)
    assert page.status_code == 200 and 'id="integrity-ok"' in raw(page) and kept in text(page)
    seq, head = kept.split(':')
    ahead = f'{int(seq) + 5}:{head}'                      # records were cut off the end since it was kept
    page = client.get('/audit/integrity?checkpoint=' + ahead)
    assert 'id="integrity-broken"' in raw(page) and 'cut off the end' in text(page)
    page = client.get('/audit/integrity?checkpoint=not-a-checkpoint')
    assert page.status_code == 422 and '检查点无效' in error_message(page)[2]
    early = audit.signed_checkpoint()
    engine.fire(Campaign.get_by_id(site.world.campaign.id), 'advance', site.world.staff, reason='按会议决定',
                override=True)
    page = client.get('/audit/integrity', query_string={'checkpoints': f'{early}\n# kept daily\n{audit.checkpoint()}'})
    assert page.status_code == 200 and 'id="integrity-ok"' in raw(page) and '已对照 2 个保存的检查点' in text(page)
    forged = early.replace(early.split()[0], f'{seq}:{"b" * 64}')
    page = client.get('/audit/integrity', query_string={'checkpoints': forged})
    assert page.status_code == 422 and 'signature' in error_message(page)[2]


def test_union_inbox_holds_evaluation_work_of_the_whole_unit(site):
    world = site.world
    recommended = application_in(world, 'recommended')
    approved = application_in(world, 'approved', team=world.t3, leader=world.leader3)
    rows = _inbox_rows(site.client('staff').get('/inbox'))
    assert {(t, int(i)) for t, i, _ in rows} == {('application', recommended.id), ('application', approved.id)}
    assert _inbox_rows(site.client('other_staff').get('/inbox')) == []


def test_score_sheet_form_on_the_application_page(site):
    world = site.world
    application = application_in(world, 'recommended')
    page = raw(site.client('staff').get(f'/objects/application/{application.id}'))
    form = page.split('<summary data-event="score">')[1].split('</form>')[0]
    for code, top in (('organisation', 20), ('learning', 30), ('innovation', 30), ('atmosphere', 20)):
        assert re.search(rf'name="criteria_{code}" min="0" max="{top}"', form), code
    downgrade = page.split('<summary data-event="downgrade">')[1].split('</form>')[0]
    assert re.findall(r'<option value="(\w+)"', downgrade) == ['learning_team']


def test_workflow_diagrams_page(site):
    page = site.client('leader1').get('/workflows')
    assert page.status_code == 200 and text(page).count('stateDiagram-v2') == 4
