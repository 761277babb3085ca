"""Acting through the pages: each form post changes the database and writes its audit record, or is refused
with a friendly message on the page (422 bad input, 409 refused by a rule or a conflict, 403 not permitted,
404 unknown) and changes nothing — never a 500."""
import csv
import io
import os

import pytest

import engine
from models import (Application, Attachment, AuditRecord, Campaign, CommendationDecision, Evidence,
                    InnovationResult, Member, Objection, Participation, Requirement, Score, Team, User)

from conftest import set_state
from scenarios import application_in, innovation_in, participation_in
from web_fixtures import (act, enrolled, error_message, flashes, follow, last_audit, new_application, post_forms,
                          raw, text, upload)
from web_fixtures import app, site  # noqa: F401  (fixtures)


def requirements_of(world, stage='popularization'):
    return list(Requirement.select().where(Requirement.campaign == world.campaign, Requirement.stage == stage)
                .order_by(Requirement.position))


def fresh(record):
    return type(record).get_by_id(record.id)


def in_progress_without_evidence(world):
    world.launch()
    return set_state(world.enrol(), 'in_progress')


def refused_on_the_page(client, response, *words, status=None):
    """A refused form post: sent back to the form with the reason flashed (or an error page with it)."""
    if response.status_code == 303:
        shown = ' '.join(flashes(follow(client, response), 'error'))
    else:
        assert status is None or response.status_code == status, (response.status_code, text(response)[:600])
        shown = error_message(response)[2]
    for word in words:
        assert word in shown, (word, shown)
    return shown


# --- team leader: enrolment and evidence ---------------------------------------------------------------

def test_leader_enrols_the_team(site):
    world = site.world
    world.launch()
    client = site.client('leader1')
    response = client.post(f'/teams/{world.t1.id}/enrol')
    assert response.status_code == 303 and response.location == f'/teams/{world.t1.id}'
    part = Participation.get(Participation.team == world.t1)
    assert part.state == 'requested' and part.campaign_id == world.campaign.id
    record = last_audit('participation', part.id)
    assert (record.event, record.actor_id, record.actor_role) == ('enrol', world.leader1.id, 'team_leader')
    assert '已提交报名，等待分会审核。' in flashes(client.get(response.location), 'success')


def test_enrolling_twice_or_before_launch_is_refused_kindly(site):
    world = site.world
    client = site.client('leader1')
    response = client.post(f'/teams/{world.t1.id}/enrol')              # the campaign is still a draft
    assert response.status_code == 409
    assert '创建活动未在进行中' in error_message(response)[2]
    assert Participation.select().count() == 0
    world.launch()
    assert client.post(f'/teams/{world.t1.id}/enrol').status_code == 303
    before = AuditRecord.select().count()
    again = client.post(f'/teams/{world.t1.id}/enrol', headers={'Referer': f'http://localhost/teams/{world.t1.id}'})
    shown = refused_on_the_page(client, again, '已存在')
    assert '他人修改' not in shown                   # not mistaken for a concurrent edit
    assert Participation.select().count() == 1 and AuditRecord.select().count() == before


def test_leader_cannot_enrol_or_apply_for_another_team(site):
    world = site.world
    world.launch()
    client = site.client('leader1')
    for url, data in ((f'/teams/{world.t3.id}/enrol', {}),
                      (f'/teams/{world.t3.id}/applications', {'campaign_id': world.campaign.id, 'year': 2026,
                                                              'tier': 'learning_team'}),
                      (f'/teams/{world.t3.id}/innovations', {'campaign_id': world.campaign.id, 'year': 2026,
                                                             'title': 't', 'topic': 'cost', 'summary': 's'})):
        response = client.post(url, data=data)
        assert response.status_code == 404, url           # another team: as if it did not exist
        assert error_message(response)[2] == f'班组 #{world.t3.id} 不存在或您无权查看'
    assert Participation.select().count() == Application.select().count() == InnovationResult.select().count() == 0


def test_evidence_text_is_saved_and_audited(site):
    world = site.world
    part = in_progress_without_evidence(world)
    requirement = requirements_of(world)[0]
    client = site.client('leader1')
    response = client.post(f'/participations/{part.id}/evidence/{requirement.id}',
                           data={'version': part.version, 'text': '全班讨论形成愿景：安全、高效、学习'})
    assert response.status_code == 303
    assert response.location == f'/teams/{world.t1.id}#req-{requirement.id}'
    evidence = Evidence.get(Evidence.participation == part, Evidence.requirement == requirement)
    assert evidence.text == '全班讨论形成愿景：安全、高效、学习' and evidence.status == 'draft'
    assert fresh(part).version == part.version + 1
    record = last_audit('participation', part.id)
    assert record.event == 'edit_evidence' and record.payload['requirement_id'] == requirement.id
    assert 'text_sha256' in record.payload
    page = client.get(f'/teams/{world.t1.id}')
    assert '佐证材料已保存。' in flashes(page, 'success') and '全班讨论形成愿景' in text(page)


def test_evidence_file_upload_download_and_removal(site):
    world = site.world
    part = in_progress_without_evidence(world)
    requirement = requirements_of(world)[2]
    client = site.client('leader1')
    content = b'%PDF-1.4 training plan'
    response = upload(client, f'/participations/{part.id}/evidence/{requirement.id}',
                      {'version': part.version, 'text': ''}, [('培训计划.pdf', content), ('a.png', b'\x89PNG..')])
    assert response.status_code == 303
    attachments = list(Attachment.select().order_by(Attachment.id))
    assert [(a.filename, a.content_type, a.size) for a in attachments] == [
        ('培训计划.pdf', 'application/pdf', len(content)), ('a.png', 'image/png', 6)]
    assert os.path.exists(os.path.join(os.environ['CHUANGZHENG_UPLOADS'], attachments[0].sha256))
    record = last_audit('participation', part.id)
    assert [a['filename'] for a in record.payload['added']] == ['培训计划.pdf', 'a.png']
    download = client.get(f'/attachments/{attachments[0].id}')
    assert download.status_code == 200 and download.data == content
    assert '/attachments/' in raw(client.get(f'/teams/{world.t1.id}'))
    # remove one file again
    response = client.post(f'/participations/{part.id}/evidence/{requirement.id}',
                           data={'version': fresh(part).version, 'remove': str(attachments[1].id)})
    assert response.status_code == 303
    assert [a.filename for a in Attachment.select()] == ['培训计划.pdf']
    assert last_audit('participation', part.id).payload['removed'][0]['id'] == attachments[1].id


@pytest.mark.parametrize('filename, size, status, words', [
    ('setup.exe', 100, 422, ('不支持的文件类型', '.exe')),
    ('script.html', 100, 422, ('不支持的文件类型',)),
    ('no_extension', 100, 422, ('不支持的文件类型',)),
    ('huge.pdf', 10 * 1024 * 1024 + 1, 422, ('文件过大',)),
    ('empty.pdf', 0, 422, ('文件为空',)),
    ('enormous.pdf', 26 * 1024 * 1024, 413, ('上传的文件过大',)),
])
def test_evidence_upload_limits(site, filename, size, status, words):
    world = site.world
    part = in_progress_without_evidence(world)
    requirement = requirements_of(world)[0]
    before = AuditRecord.select().count()
    response = upload(site.client('leader1'), f'/participations/{part.id}/evidence/{requirement.id}',
                      {'version': part.version, 'text': '说明'}, [(filename, b'x' * size)])
    assert response.status_code == status
    message = error_message(response)[2]
    assert all(word in message for word in words), message
    assert Attachment.select().count() == 0 and Evidence.select().count() == 0
    assert AuditRecord.select().count() == before and fresh(part).version == part.version
    assert not os.path.exists(os.environ['CHUANGZHENG_UPLOADS']) or not os.listdir(os.environ['CHUANGZHENG_UPLOADS'])


def test_uploaded_file_name_cannot_escape_the_folder(site):
    world = site.world
    part = in_progress_without_evidence(world)
    requirement = requirements_of(world)[0]
    response = upload(site.client('leader1'), f'/participations/{part.id}/evidence/{requirement.id}',
                      {'version': part.version}, [('../../etc/passwd.txt', b'hello')])
    assert response.status_code == 303
    attachment = Attachment.get()
    assert attachment.filename == 'passwd.txt' and len(attachment.sha256) == 64


@pytest.mark.parametrize('data, status, word', [
    ({'version': 'abc', 'text': 'x'}, 422, 'version'),
    ({'text': 'x'}, 422, 'version'),
    ({'version': '{v}', 'text': 'x' * 20001}, 422, 'text'),
])
def test_bad_evidence_form_is_a_friendly_422(site, data, status, word):
    world = site.world
    part = in_progress_without_evidence(world)
    data = {k: v.format(v=part.version) if isinstance(v, str) and v == '{v}' else v for k, v in data.items()}
    response = site.client('leader1').post(f'/participations/{part.id}/evidence/{requirements_of(world)[0].id}',
                                           data=data)
    assert response.status_code == status
    assert word in error_message(response)[2]
    assert Evidence.select().count() == 0


def test_evidence_after_someone_else_changed_it_says_reload(site):
    world = site.world
    part = in_progress_without_evidence(world)
    first, second = requirements_of(world)[:2]
    client = site.client('leader1')
    url = f'/participations/{part.id}/evidence/{first.id}'
    assert client.post(url, data={'version': part.version, 'text': '第一稿'}).status_code == 303
    stale = client.post(f'/participations/{part.id}/evidence/{second.id}',
                        data={'version': part.version, 'text': '另一页上的旧表单'},
                        headers={'Referer': f'http://localhost/teams/{world.t1.id}'})
    assert stale.status_code == 303 and stale.location == f'/teams/{world.t1.id}'
    refused_on_the_page(client, stale, '已被他人修改', '刷新')
    assert not Evidence.select().where(Evidence.requirement == second).exists()
    # without a page to go back to: a 409 page saying the same
    again = client.post(f'/participations/{part.id}/evidence/{second.id}',
                        data={'version': part.version, 'text': '旧表单'})
    assert again.status_code == 409 and '已被他人修改' in error_message(again)[2]


def test_evidence_is_locked_while_under_review(site):
    world = site.world
    part = participation_in(world, 'submitted')
    requirement = requirements_of(world)[0]
    response = site.client('leader1').post(f'/participations/{part.id}/evidence/{requirement.id}',
                                           data={'version': part.version, 'text': '偷偷修改'})
    assert response.status_code == 409 and '锁定' in error_message(response)[2]
    assert Evidence.get(Evidence.participation == part, Evidence.requirement == requirement).text.startswith('材料')


@pytest.mark.parametrize('user, status', [('leader3', 404), ('chair1', 403), ('secretary1', 403), ('staff', 403),
                                          ('auditor', 403)])
def test_only_the_teams_leader_records_evidence(site, user, status):
    world = site.world
    part = in_progress_without_evidence(world)
    response = site.client(user).post(f'/participations/{part.id}/evidence/{requirements_of(world)[0].id}',
                                      data={'version': part.version, 'text': '代填'})
    assert response.status_code == status        # 404: another team's, as if it did not exist
    assert Evidence.select().count() == 0 and fresh(part).version == part.version


def test_evidence_for_unknown_participation_or_requirement_is_404(site):
    world = site.world
    part = in_progress_without_evidence(world)
    client = site.client('leader1')
    assert client.post('/participations/99999/evidence/1', data={'version': 1, 'text': 'x'}).status_code == 404
    other_stage = requirements_of(world, 'innovation')[0]
    response = client.post(f'/participations/{part.id}/evidence/{other_stage.id}',
                           data={'version': part.version, 'text': 'x'})
    assert response.status_code == 404 and '不属于本班组当前阶段' in error_message(response)[2]


# --- team leader: stage review, applications, innovation results ---------------------------------------

def test_leader_submits_the_stage_for_review(site):
    world = site.world
    part = participation_in(world, 'in_progress')
    client = site.client('leader1')
    response = act(client, 'participation', part, 'submit_stage', back=f'/teams/{world.t1.id}')
    assert response.status_code == 303 and response.location == f'/teams/{world.t1.id}'
    part = fresh(part)
    assert part.state == 'submitted'
    assert {e.status for e in Evidence.select().where(Evidence.participation == part)} == {'submitted'}
    assert last_audit('participation', part.id).event == 'submit_stage'
    assert '已办理：阶段验收待审' in flashes(client.get(response.location), 'success')


def test_submitting_with_missing_evidence_names_what_is_missing(site):
    world = site.world
    part = in_progress_without_evidence(world)
    first = requirements_of(world)[0]
    engine.record_evidence(part, first.id, world.leader1, text='愿景')
    client = site.client('leader1')
    response = act(client, 'participation', fresh(part), 'submit_stage', back=f'/teams/{world.t1.id}')
    shown = refused_on_the_page(client, response, '以下要求尚无佐证材料', '一份班组学习培训计划')
    assert '一个班组共同愿景' not in shown
    assert fresh(part).state == 'in_progress'


def test_leader_drafts_submits_and_withdraws_an_application(site):
    world = site.world
    part = participation_in(world, 'stage_reached')
    Participation.update(reached_stage='popularization').where(Participation.id == part.id).execute()
    client = site.client('leader1')
    response = client.post(f'/teams/{world.t1.id}/applications',
                           data={'campaign_id': world.campaign.id, 'year': 2026, 'tier': 'learning_team',
                                 'statement': '我们的创建成果', 'state': 'commended', 'team_id': world.t3.id,
                                 'total_score': 100})
    application = Application.get()
    assert response.status_code == 303 and response.location == f'/objects/application/{application.id}'
    # only the allow-listed fields were taken: no state, team or score from the form
    assert (application.state, application.team_id, application.total_score) == ('draft', world.t1.id, None)
    assert application.statement == '我们的创建成果'
    assert '申报已保存为草稿' in ' '.join(flashes(client.get(response.location)))
    assert act(client, 'application', application, 'submit').status_code == 303
    application = fresh(application)
    assert application.state == 'submitted' and application.submitted_at is not None
    # withdrawing needs a reason
    response = act(client, 'application', application, 'withdraw', reason='   ')
    assert response.status_code == 422 and '请填写理由' in error_message(response)[2]
    assert fresh(application).state == 'submitted'
    assert act(client, 'application', application, 'withdraw', reason='材料需完善').status_code == 303
    assert fresh(application).state == 'withdrawn'
    record = last_audit('application', application.id)
    assert (record.event, record.from_state, record.to_state) == ('withdraw', 'submitted', 'withdrawn')
    assert '材料需完善' in text(client.get(f'/objects/application/{application.id}'))


def test_application_for_a_tier_the_team_has_not_earned_is_refused(site):
    world = site.world
    participation_in(world, 'in_progress')
    application = new_application(world, tier='model_team')
    client = site.client('leader1')
    response = act(client, 'application', application, 'submit', back=f'/objects/application/{application.id}')
    refused_on_the_page(client, response, '申报「学习型标兵班组」需达到创新发展阶段')
    assert fresh(application).state == 'draft'


@pytest.mark.parametrize('data, field', [
    ({'year': 'abc', 'tier': 'learning_team'}, 'year'),
    ({'year': '1999', 'tier': 'learning_team'}, 'year'),
    ({'year': '2026', 'tier': 'gold'}, 'tier'),
    ({'year': '2026'}, 'tier'),
    ({'year': '2026', 'tier': 'learning_team', 'statement': 'x' * 20001}, 'statement'),
])
def test_bad_application_form_is_a_friendly_422(site, data, field):
    world = site.world
    world.launch()
    response = site.client('leader1').post(f'/teams/{world.t1.id}/applications',
                                           data={'campaign_id': world.campaign.id, **data})
    assert response.status_code == 422
    assert '表单填写有误' in error_message(response)[2] and field in error_message(response)[2]
    assert Application.select().count() == 0


def test_innovation_result_from_draft_to_branch_approval(site):
    world = site.world
    world.launch()
    leader = site.client('leader1')
    response = leader.post(f'/teams/{world.t1.id}/innovations',
                           data={'campaign_id': world.campaign.id, 'year': 2026, 'title': '装车工效提升',
                                 'topic': 'efficiency', 'summary': ''})
    result = InnovationResult.get()
    assert response.status_code == 303 and result.state == 'draft' and result.team_id == world.t1.id
    response = act(leader, 'innovation', result, 'submit', back=f'/objects/innovation/{result.id}')
    refused_on_the_page(leader, response, '请填写成果简介')
    InnovationResult.update(summary='装车时间缩短两成').where(InnovationResult.id == result.id).execute()
    assert act(leader, 'innovation', fresh(result), 'submit').status_code == 303
    assert fresh(result).state == 'submitted'
    chair = site.client('chair1')
    assert act(chair, 'innovation', fresh(result), 'approve').status_code == 303
    result = fresh(result)
    assert result.state == 'approved'
    record = last_audit('innovation', result.id)
    assert (record.event, record.actor_id, record.actor_role) == ('approve', world.chair1.id, 'branch_chair')


def test_bad_innovation_form_is_a_friendly_422(site):
    world = site.world
    world.launch()
    response = site.client('leader1').post(f'/teams/{world.t1.id}/innovations',
                                           data={'campaign_id': world.campaign.id, 'year': 2026, 'title': '',
                                                 'topic': 'luck'})
    assert response.status_code == 422
    message = error_message(response)[2]
    assert 'title' in message and 'topic' in message
    assert InnovationResult.select().count() == 0


# --- reviewers --------------------------------------------------------------------------------------------

def test_chair_approves_an_enrolment(site):
    world = site.world
    part = enrolled(world)
    client = site.client('chair1')
    response = act(client, 'participation', part, 'approve_enrolment', reason='同意', back='/inbox')
    assert response.status_code == 303 and response.location == '/inbox'
    assert fresh(part).state == 'in_progress'
    record = last_audit('participation', part.id)
    assert (record.event, record.actor_id, record.actor_role, record.to_state) == (
        'approve_enrolment', world.chair1.id, 'branch_chair', 'in_progress')
    page = client.get('/inbox')
    assert '已办理：创建中' in flashes(page, 'success')
    assert f'data-id="{part.id}"' not in raw(page)          # no longer waiting


@pytest.mark.parametrize('event, state', [('return_enrolment', 'enrolment_returned'),
                                          ('reject_enrolment', 'rejected')])
def test_return_and_reject_need_a_reason(site, event, state):
    world = site.world
    part = enrolled(world)
    client = site.client('chair1')
    before = AuditRecord.select().count()
    response = act(client, 'participation', part, event, reason='',
                   back=f'/objects/participation/{part.id}')
    assert response.status_code == 303
    refused_on_the_page(client, response, '请填写理由')
    assert fresh(part).state == 'requested' and AuditRecord.select().count() == before
    response = act(client, 'participation', part, event, reason='六个一材料不全，请补充')
    assert response.status_code == 303 and fresh(part).state == state
    record = last_audit('participation', part.id)
    assert record.event == event
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    assert '六个一材料不全，请补充' in text(page).split('id="timeline"')[1]


def test_returning_a_stage_sends_back_only_the_failed_items(site):
    world = site.world
    part = engine.fire(participation_in(world, 'in_progress'), 'submit_stage', world.leader1)
    items = requirements_of(world)
    failed = items[1], items[4]
    response = act(site.client('chair1'), 'participation', part, 'return_stage', reason='部分材料不合格',
                   requirement_ids=[str(r.id) for r in failed], **{f'comment_{items[1].id}': '宣传栏照片不清楚'})
    assert response.status_code == 303
    assert fresh(part).state == 'stage_returned'
    status = {e.requirement_id: (e.status, e.review_comment) for e in Evidence.select()}
    assert status[items[1].id] == ('returned', '宣传栏照片不清楚')
    assert status[items[4].id] == ('returned', '部分材料不合格')
    assert {status[r.id][0] for r in items if r not in failed} == {'accepted'}
    assert last_audit('participation', part.id).payload['requirement_ids'] == [r.id for r in failed]
    # the leader can fix exactly the returned items
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    evidence_forms = [f for f in post_forms(page) if "/evidence/" in f]
    assert sorted(evidence_forms) == sorted(f'/participations/{part.id}/evidence/{r.id}' for r in failed)
    assert '宣传栏照片不清楚' in text(page)


def test_bad_return_item_ids_are_a_friendly_422(site):
    world = site.world
    part = participation_in(world, 'submitted')
    response = act(site.client('chair1'), 'participation', part, 'return_stage', reason='x',
                   requirement_ids=['one'])
    assert response.status_code == 422 and 'requirement_ids' in error_message(response)[2]
    assert fresh(part).state == 'submitted'


def test_chair_cannot_approve_their_own_teams_submission_the_secretary_does(site):
    world = site.world
    part = enrolled(world, team=world.t2, leader=world.chair1)
    before = AuditRecord.select().count()
    response = act(site.client('chair1'), 'participation', part, 'approve_enrolment')
    assert response.status_code == 403
    assert '不能审批本人所在班组' in error_message(response)[2]
    assert fresh(part).state == 'requested' and AuditRecord.select().count() == before
    assert act(site.client('secretary1'), 'participation', part, 'approve_enrolment').status_code == 303
    record = last_audit('participation', part.id)
    assert (fresh(part).state, record.actor_role) == ('in_progress', 'party_secretary')


@pytest.mark.parametrize('user, status', [('chair1', 404), ('secretary1', 404), ('leader1', 404), ('leader3', 403),
                                          ('other_staff', 404), ('auditor', 403)])
def test_nobody_outside_the_branch_decides_on_its_teams(site, user, status):
    world = site.world
    part = enrolled(world, team=world.t3, leader=world.leader3)
    before = AuditRecord.select().count()
    response = act(site.client(user), 'participation', part, 'approve_enrolment', reason='越权')
    assert response.status_code == status         # 404 to who may not see it, 403 to who may
    assert fresh(part).state == 'requested' and AuditRecord.select().count() == before
    assert act(site.client('chair2'), 'participation', part, 'approve_enrolment').status_code == 303
    assert fresh(part).state == 'in_progress'


def test_union_staff_may_step_in_with_a_recorded_reason(site):
    world = site.world
    part = enrolled(world)
    client = site.client('staff')
    response = act(client, 'participation', part, 'approve_enrolment', reason='')
    assert response.status_code == 422 and '理由' in error_message(response)[2]
    assert fresh(part).state == 'requested'
    assert act(client, 'participation', part, 'approve_enrolment', reason='分会主席出差，代为审批').status_code == 303
    record = last_audit('participation', part.id)
    assert fresh(part).state == 'in_progress'
    assert (record.actor_role, record.payload.get('override')) == ('union_staff', True)


def test_the_secretary_co_signs_stage_approvals_where_the_unit_says_so(site):
    world = site.world
    world.unit.settings = {'secretary_cosigns_stages': True}
    world.unit.save()
    part = engine.fire(participation_in(world, 'in_progress'), 'submit_stage', world.leader1)
    assert act(site.client('chair1'), 'participation', part, 'approve_stage').status_code == 303
    part = fresh(part)
    assert part.state == 'awaiting_cosign' and part.reached_stage is None
    assert f'data-id="{part.id}"' not in raw(site.client('chair1').get('/inbox'))
    secretary = site.client('secretary1')
    inbox = raw(secretary.get('/inbox'))
    assert f'participation:{part.id}:{part.version}:cosign_stage' in inbox
    response = secretary.post('/inbox/bulk', data={'items': f'participation:{part.id}:{part.version}:cosign_stage'})
    assert response.status_code == 303
    part = fresh(part)
    assert (part.state, part.reached_stage) == ('stage_reached', 'popularization')
    record = last_audit('participation', part.id)
    assert (record.event, record.actor_role) == ('cosign_stage', 'party_secretary')
    page = site.client('leader1').get(f'/teams/{world.t1.id}')
    assert '会签同意' in text(page) and '王书记' in text(page)


def test_bulk_approval_approves_each_item_with_its_own_audit_record(site):
    world = site.world
    part = enrolled(world)
    result = innovation_in(world, 'submitted')
    application = set_state(new_application(world), 'submitted')
    client = site.client('chair1')
    tokens = [f'participation:{part.id}:{part.version}:approve_enrolment',
              f'innovation:{result.id}:{result.version}:approve',
              f'application:{application.id}:{application.version}:recommend']
    response = client.post('/inbox/bulk', data={'items': tokens, 'reason': '同意'})
    assert response.status_code == 303 and response.location == '/inbox'
    assert (fresh(part).state, fresh(result).state, fresh(application).state) == (
        'in_progress', 'approved', 'recommended')
    for object_type, record, event in (('participation', part, 'approve_enrolment'), ('innovation', result, 'approve'),
                                       ('application', application, 'recommend')):
        audit = last_audit(object_type, record.id)
        assert (audit.event, audit.actor_id) == (event, world.chair1.id)
    page = client.get('/inbox')
    assert '已批量通过 3 项。' in flashes(page, 'success') and '暂无待办事项' in text(page)


def test_bulk_approval_reports_each_refusal_and_does_the_rest(site):
    world = site.world
    part = enrolled(world)
    other = enrolled(world, team=world.t3, leader=world.leader3)
    result = innovation_in(world, 'submitted')
    client = site.client('chair1')
    tokens = [f'participation:{part.id}:{part.version}:approve_enrolment',
              f'participation:{other.id}:{other.version}:approve_enrolment',      # another branch
              f'innovation:{result.id}:{result.version - 1}:approve']             # a stale page
    response = client.post('/inbox/bulk', data={'items': tokens})
    page = follow(client, response)
    assert '已批量通过 1 项。' in flashes(page, 'success')
    errors = flashes(page, 'error')
    assert len(errors) == 2
    assert any('无权' in e for e in errors) and any('他人修改' in e for e in errors)
    assert (fresh(part).state, fresh(other).state, fresh(result).state) == ('in_progress', 'requested', 'submitted')


@pytest.mark.parametrize('items', [['nonsense'], ['participation:1:1'], ['participation:x:1:approve_enrolment'],
                                   ['participation:1:1:reject_enrolment'], ['campaign:1:1:launch']])
def test_bulk_approval_refuses_malformed_items(site, items):
    world = site.world
    part = enrolled(world)
    response = site.client('chair1').post('/inbox/bulk', data={'items': items})
    assert response.status_code == 400 and error_message(response)[0] == '请求有误'
    assert fresh(part).state == 'requested'


def test_bulk_approval_with_nothing_ticked(site):
    client = site.client('chair1')
    page = follow(client, client.post('/inbox/bulk', data={}))
    assert '请先勾选要通过的事项。' in flashes(page, 'error')


def test_second_reviewer_on_the_same_item_is_told_to_reload(site):
    world = site.world
    part = participation_in(world, 'submitted')
    version_seen = part.version                                        # both opened the page
    chair, staff = site.client('chair1'), site.client('staff')
    assert act(chair, 'participation', part, 'approve_stage', version=version_seen).status_code == 303
    before = AuditRecord.select().count()
    response = act(staff, 'participation', part, 'return_stage', version=version_seen, reason='退回',
                   back=f'/objects/participation/{part.id}')
    assert response.status_code == 303 and response.location == f'/objects/participation/{part.id}'
    refused_on_the_page(staff, response, '该记录已被他人修改，请刷新页面后重试。')
    assert fresh(part).state == 'stage_reached' and AuditRecord.select().count() == before


@pytest.mark.parametrize('data, status, words', [
    ({'event': 'approve_enrolment', 'version': 'x'}, 422, ('version',)),
    ({'event': 'approve_enrolment'}, 422, ('version',)),
    ({'version': '{v}'}, 422, ('event',)),
    ({'event': 'fly_to_the_moon', 'version': '{v}'}, 409, ('未知操作',)),
    ({'event': 'approve_stage', 'version': '{v}'}, 409, ('当前状态', '不能')),
    ({'event': 'approve_enrolment', 'version': '{v}', 'reason': 'x' * 2001}, 422, ('reason',)),
    ({'event': 'approve_enrolment', 'version': '{v}', 'override': 'perhaps'}, 422, ('override',)),
])
def test_malformed_action_posts_are_friendly_4xx(site, data, status, words):
    world = site.world
    part = enrolled(world)
    data = {k: str(part.version) if v == '{v}' else v for k, v in data.items()}
    before = AuditRecord.select().count()
    response = site.client('chair1').post(f'/act/participation/{part.id}', data=data)
    assert response.status_code == status
    message = error_message(response)[2]
    assert all(w in message for w in words), message
    assert fresh(part).state == 'requested' and AuditRecord.select().count() == before


@pytest.mark.parametrize('url', ['/act/participation/99999', '/act/nonsense/1', '/act/campaign/99999',
                                 '/act/participation/abc'])
def test_acting_on_unknown_objects_is_404(site, url):
    response = site.client('staff').post(url, data={'event': 'approve_enrolment', 'version': 1})
    assert response.status_code == 404 and error_message(response)[0] == '页面不存在'


# --- union staff: the campaign ----------------------------------------------------------------------------

def test_union_launches_the_campaign(site):
    world = site.world
    client = site.client('staff')
    response = act(client, 'campaign', world.campaign, 'launch', back=f'/campaigns/{world.campaign.id}')
    assert response.status_code == 303
    assert fresh(world.campaign).state == 'popularization'
    record = last_audit('campaign', world.campaign.id)
    assert (record.event, record.actor_id, record.actor_role) == ('launch', world.staff.id, 'union_staff')
    assert 'data-event="advance"' in raw(client.get(f'/campaigns/{world.campaign.id}'))


def test_advancing_below_target_needs_an_override_with_a_reason(site):
    world = site.world
    participation_in(world, 'in_progress')                                 # 1 of 3 teams: 33%
    campaign = fresh(world.campaign)
    client = site.client('staff')
    back = f'/campaigns/{campaign.id}'
    response = act(client, 'campaign', campaign, 'advance', back=back)
    refused_on_the_page(client, response, '普及阶段目标为50%', '货运处参与率33%（1/3）', '二分会参与率0%（0/1）')
    assert fresh(campaign).state == 'popularization'
    response = act(client, 'campaign', campaign, 'advance', override='true', reason='', back=back)
    refused_on_the_page(client, response, '需要填写理由')
    assert fresh(campaign).state == 'popularization'
    response = act(client, 'campaign', campaign, 'advance', override='true', reason='处党委决定按期推进', back=back)
    assert response.status_code == 303 and fresh(campaign).state == 'consolidation'
    record = last_audit('campaign', campaign.id)
    assert record.payload['override'] is True
    assert record.payload['overridden_guards'][0]['guard'] == 'is_stage_target_met'
    page = client.get(back)
    assert '目标 80%' in text(page) and '巩固提高阶段' in text(page)


def test_advancing_on_target_needs_no_override(site):
    world = site.world
    for team, leader in ((world.t1, world.leader1), (world.t3, world.leader3)):
        participation_in(world, 'in_progress', team=team, leader=leader)    # 一分会 1/2, 二分会 1/1: 2/3
    response = act(site.client('staff'), 'campaign', fresh(world.campaign), 'advance')
    assert response.status_code == 303 and fresh(world.campaign).state == 'consolidation'
    assert 'override' not in last_audit('campaign', world.campaign.id).payload


def test_closing_the_campaign_needs_a_reason(site):
    world = site.world
    campaign = set_state(world.launch(), 'innovation')
    client = site.client('staff')
    response = act(client, 'campaign', campaign, 'close')
    assert response.status_code == 422 and '请填写理由' in error_message(response)[2]
    assert act(client, 'campaign', campaign, 'close', reason='年度活动结束').status_code == 303
    assert fresh(campaign).state == 'closed'


@pytest.mark.parametrize('user, status', [('leader1', 404), ('chair1', 404), ('secretary1', 404),
                                          ('other_staff', 404), ('auditor', 403)])
def test_only_the_units_union_staff_run_the_campaign(site, user, status):
    world = site.world
    response = act(site.client(user), 'campaign', world.campaign, 'launch')
    assert response.status_code == status         # a campaign is seen by its union staff and auditors only
    assert fresh(world.campaign).state == 'draft'


def test_union_edits_a_requirement(site):
    world = site.world
    requirement = requirements_of(world)[0]
    client = site.client('staff')
    campaign = fresh(world.campaign)
    response = client.post(f'/campaigns/{campaign.id}/requirements/{requirement.id}',
                           data={'version': campaign.version, 'title_zh': '一个班组共同愿景（上墙）',
                                 'title_en': 'A shared vision', 'description': '张贴', 'cadence': 'once',
                                 'active': 'true'})
    assert response.status_code == 303
    assert fresh(requirement).title_zh == '一个班组共同愿景（上墙）'
    record = last_audit('campaign', campaign.id)
    assert record.event == 'edit_requirement' and record.payload['before']['title_zh'] == '一个班组共同愿景'
    stale = client.post(f'/campaigns/{campaign.id}/requirements/{requirement.id}',
                        data={'version': campaign.version, 'title_zh': '旧', 'active': 'true'})
    assert stale.status_code == 409 and '已被他人修改' in error_message(stale)[2]
    bad = client.post(f'/campaigns/{campaign.id}/requirements/{requirement.id}', data={'version': 'x'})
    assert bad.status_code == 400
    assert site.client('chair1').post(f'/campaigns/{campaign.id}/requirements/{requirement.id}',
                                      data={'version': fresh(campaign).version, 'title_zh': '改'}).status_code == 404
    assert fresh(requirement).title_zh == '一个班组共同愿景（上墙）'


# --- union staff: evaluation and commendation --------------------------------------------------------------

def score_form(values):
    return {f'criteria_{code}': value for code, value in values.items()}


def test_judges_score_then_the_union_approves(site):
    world = site.world
    application = application_in(world, 'recommended')
    staff, staff2 = site.client('staff'), site.client('staff2')
    sheet = {'organisation': 18, 'learning': 27, 'innovation': 25.5, 'atmosphere': 17}
    response = act(staff, 'application', application, 'score', **score_form(sheet))
    assert response.status_code == 303
    score = Score.get(Score.application == application, Score.judge == world.staff)
    assert score.criteria == sheet and score.total == 87.5
    response = act(staff, 'application', fresh(application), 'approve', back=f'/objects/application/{application.id}')
    refused_on_the_page(staff, response, '需要至少2位评委评分，目前1位')
    assert act(staff2, 'application', fresh(application), 'score',
               **score_form({'organisation': 16, 'learning': 25, 'innovation': 24, 'atmosphere': 15})).status_code == 303
    assert fresh(application).total_score == 83.75
    assert act(staff, 'application', fresh(application), 'approve').status_code == 303
    assert fresh(application).state == 'approved'
    page = staff.get(f'/campaigns/{world.campaign.id}/evaluation')
    assert '83.75' in text(page) and '评审通过' in text(page)


@pytest.mark.parametrize('sheet, status, word', [
    ({'organisation': 'abc', 'learning': 1, 'innovation': 1, 'atmosphere': 1}, 422, '组织领导'),
    ({'organisation': 'nan', 'learning': 1, 'innovation': 1, 'atmosphere': 1}, 422, '分数'),
    ({'organisation': 'inf', 'learning': 1, 'innovation': 1, 'atmosphere': 1}, 422, '分数'),
    ({'organisation': 25, 'learning': 1, 'innovation': 1, 'atmosphere': 1}, 409, '组织领导应在0–20分之间'),
    ({'organisation': -1, 'learning': 1, 'innovation': 1, 'atmosphere': 1}, 409, '0–20'),
    ({'learning': 1, 'innovation': 1, 'atmosphere': 1}, 422, '组织领导'),
])
def test_bad_score_sheets_are_refused_kindly(site, sheet, status, word):
    world = site.world
    application = application_in(world, 'recommended')
    response = act(site.client('staff'), 'application', application, 'score', **score_form(sheet))
    assert response.status_code == status
    assert word in error_message(response)[2]
    assert Score.select().count() == 0


def test_tier_quota_is_enforced_and_a_downgrade_needs_a_reason(site):
    world = site.world
    Campaign.update(settings={'quotas': {'learning_team': 5, 'excellent_team': 1, 'model_team': 1}}).where(
        Campaign.id == world.campaign.id).execute()
    first = application_in(world, 'recommended', event='approve')
    second = application_in(world, 'recommended', event='approve', team=world.t3, leader=world.leader3)
    client = site.client('staff')
    assert act(client, 'application', first, 'approve').status_code == 303
    response = act(client, 'application', second, 'approve', back=f'/objects/application/{second.id}')
    refused_on_the_page(client, response, '「学习型优胜班组」名额已满（1个）')
    assert fresh(second).state == 'recommended'
    response = act(client, 'application', second, 'downgrade', tier='learning_team', reason='')
    assert response.status_code == 422
    response = act(client, 'application', second, 'downgrade', tier='learning_team', reason='优胜名额已满，降为学习型班组')
    assert response.status_code == 303
    second = fresh(second)
    assert (second.state, second.tier, second.requested_tier) == ('approved', 'learning_team', 'excellent_team')
    page = client.get(f'/campaigns/{world.campaign.id}/evaluation')
    assert '名额 1/1' in text(page) and '名额 1/5' in text(page)


def test_public_notice_and_an_objection(site):
    world = site.world
    application = application_in(world, 'approved')
    client = site.client('staff')
    assert act(client, 'application', application, 'publish_notice').status_code == 303
    application = fresh(application)
    assert application.state == 'publicized' and application.notice_ends_at is not None
    # someone in the unit objects, with a reason
    objector = site.client('secretary1')
    assert act(objector, 'application', application, 'lodge_objection', reason='').status_code == 422
    assert act(objector, 'application', application, 'lodge_objection', reason='材料与事实不符').status_code == 303
    objection = Objection.get()
    assert objection.text == '材料与事实不符' and objection.lodged_by_id == world.secretary1.id
    assert act(site.client('other_leader'), 'application', fresh(application), 'lodge_objection',
               reason='外单位').status_code == 404
    page = client.get(f'/objects/application/{application.id}')
    assert '材料与事实不符' in text(page) and '待处理' in text(page)
    response = act(client, 'application', fresh(application), 'dismiss_objection', objection_id='abc', reason='x')
    assert response.status_code == 422
    response = act(client, 'application', fresh(application), 'dismiss_objection', objection_id=str(objection.id),
                   reason='经核实材料属实')
    assert response.status_code == 303
    assert fresh(objection).resolution == 'dismissed' and fresh(application).state == 'publicized'


def test_a_leader_of_another_team_in_the_unit_may_object_during_the_notice(site):
    world = site.world
    application = set_state(application_in(world, 'approved'), 'publicized')
    response = act(site.client('leader3'), 'application', application, 'lodge_objection', reason='材料不实')
    assert response.status_code == 303 and Objection.select().count() == 1


def test_issuing_a_commendation_decision(site):
    world = site.world
    first = application_in(world, 'notice_closed')
    second = application_in(world, 'notice_closed', team=world.t3, leader=world.leader3)
    client = site.client('staff')
    url = f'/campaigns/{world.campaign.id}/commendations'
    response = client.post(url, data={'doc_number': '货工〔2026〕12号', 'title': '关于表彰2026年度学习型班组的决定',
                                      'year': 2026, 'application_ids': [first.id, second.id]})
    assert response.status_code == 303 and response.location == url
    decision = CommendationDecision.get()
    assert (decision.doc_number, decision.issued_by_id, decision.unit_id) == ('货工〔2026〕12号', world.staff.id,
                                                                            world.unit.id)
    for application in (first, second):
        application = fresh(application)
        assert (application.state, application.decision_id) == ('commended', decision.id)
        record = last_audit('application', application.id)
        assert record.event == 'commend' and record.payload['decision_id'] == decision.id
    page = client.get(url)
    assert '表彰决定 货工〔2026〕12号 已发布，表彰 2 个班组。' in flashes(page, 'success')
    assert '货工〔2026〕12号 · 关于表彰2026年度学习型班组的决定' in text(page)
    assert '暂无待表彰的申报' in text(page)
    assert '货工〔2026〕12号' in text(client.get(f'/objects/application/{first.id}'))


@pytest.mark.parametrize('case', ['duplicate_number', 'nothing_selected', 'not_closed', 'other_campaign',
                                  'no_number', 'bad_id'])
def test_a_bad_commendation_decision_changes_nothing(site, case):
    world = site.world
    waiting = application_in(world, 'notice_closed')
    data = {'doc_number': '货工〔2026〕13号', 'title': '决定', 'year': 2026, 'application_ids': [waiting.id]}
    status, word = 422, None
    if case == 'duplicate_number':
        CommendationDecision.create(unit=world.unit, year=2026, doc_number='货工〔2026〕13号', title='旧')
        word = '已被使用'
    elif case == 'nothing_selected':
        data['application_ids'] = []
        word = 'application_ids'
    elif case == 'not_closed':
        still_in_review = application_in(world, 'recommended', team=world.t3, leader=world.leader3)
        data['application_ids'] = [waiting.id, still_in_review.id]
        status, word = 409, '不能'
    elif case == 'other_campaign':
        other = engine.create('campaign', world.other_staff, {'unit_id': world.other_unit.id, 'title': '客运',
                                                               'period': '2026'})
        stranger = Application.create(team=world.ot, campaign=other, year=2026, tier='learning_team',
                                      requested_tier='learning_team', state='notice_closed')
        data['application_ids'] = [waiting.id, stranger.id]
        word = '不属于本活动'
    elif case == 'no_number':
        data['doc_number'] = ''
        word = 'doc_number'
    elif case == 'bad_id':
        data['application_ids'] = ['x']
        status = 400
    decisions = CommendationDecision.select().count()
    before = AuditRecord.select().count()
    response = site.client('staff').post(f'/campaigns/{world.campaign.id}/commendations', data=data)
    assert response.status_code == status
    if word:
        assert word in error_message(response)[2]
    assert CommendationDecision.select().count() == decisions and AuditRecord.select().count() == before
    assert fresh(waiting).state == 'notice_closed'


@pytest.mark.parametrize('user, status', [('chair1', 404), ('leader1', 404), ('other_staff', 404), ('auditor', 403)])
def test_only_the_units_union_staff_commend(site, user, status):
    world = site.world
    waiting = application_in(world, 'notice_closed')
    response = site.client(user).post(f'/campaigns/{world.campaign.id}/commendations',
                                      data={'doc_number': 'X', 'title': 'Y', 'year': 2026,
                                            'application_ids': [waiting.id]})
    assert response.status_code == status
    assert CommendationDecision.select().count() == 0 and fresh(waiting).state == 'notice_closed'


# --- union staff: organisation import ------------------------------------------------------------------------

def csv_upload(rows, header=('分会', '班组', '姓名', '工号', '角色', '用户名'), name='org.csv'):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return {'file': (io.BytesIO(out.getvalue().encode('utf-8')), name)}


def test_organisation_import(site):
    world = site.world
    response = site.client('staff').post('/org/import', content_type='multipart/form-data', data=csv_upload([
        ['三分会', '', '孙主席', 'H201', '分会主席', 'sun.zx'],
        ['三分会', '检修班', '马班长', 'H202', '班组长', 'ma.bz'],
        ['三分会', '检修班', '牛师傅', 'H203', '职工', ''],
    ]))
    assert response.status_code == 200
    assert '导入成功' in text(response) and 'imported 1 branches, 1 teams' in text(response)
    team = Team.get(Team.name == '检修班')
    assert team.branch.unit_id == world.unit.id and team.branch.name == '三分会'
    assert User.get(User.username == 'ma.bz').display_name == '马班长'
    assert Member.select().where(Member.team == team).count() == 2
    record = AuditRecord.select().where(AuditRecord.event == 'import_organisation').get()
    assert (record.object_type, record.object_id, record.actor_id) == ('unit', world.unit.id, world.staff.id)


def test_organisation_import_with_errors_reports_every_bad_row_and_imports_nothing(site):
    teams, users = Team.select().count(), User.select().count()
    response = site.client('staff').post('/org/import', content_type='multipart/form-data', data=csv_upload([
        ['三分会', '检修班', '马班长', 'H202', '班组长', 'ma.bz'],          # row 2: fine
        ['三分会', '检修班', '', 'H203', '职工', ''],                        # row 3: no name
        ['三分会', '', '牛班长', 'H204', '班组长', 'niu.bz'],                # row 4: a leader needs a team
        ['三分会', '检修班', '杨师傅', 'H205', '厨师', ''],                  # row 5: unknown role
    ]))
    assert response.status_code == 422
    report = text(response).split('id="import-report"')[1]
    for row in (3, 4, 5):
        assert f'第 {row} 行' in report
    assert '第 2 行' not in report
    assert Team.select().count() == teams and User.select().count() == users
    assert not AuditRecord.select().where(AuditRecord.event == 'import_organisation').exists()


@pytest.mark.parametrize('upload, word', [
    ({'file': (io.BytesIO(b'hello'), 'org.txt')}, '只接受 .xlsx 或 .csv'),
    ({'file': (io.BytesIO(b'PK\x03\x04 broken'), 'org.xlsx')}, '无法读取 Excel 文件'),
    ({'file': (io.BytesIO(b''), 'org.csv')}, '文件是空的'),
    ({'file': (io.BytesIO('姓名\n张三\n'.encode()), 'org.csv')}, '表头缺少列：分会、角色'),
])
def test_organisation_import_of_a_wrong_file_is_reported(site, upload, word):
    response = site.client('staff').post('/org/import', content_type='multipart/form-data', data=upload)
    assert response.status_code == 422
    assert word in text(response).split('id="import-report"')[1]
    assert AuditRecord.select().where(AuditRecord.event == 'import_organisation').count() == 0


def test_organisation_import_without_a_file(site):
    page = site.client('staff').post('/org/import', data={})
    assert page.status_code == 200 and '请选择要导入的文件。' in flashes(page, 'error')


def test_other_units_staff_cannot_import_into_this_unit(site):
    response = site.client('other_staff').post('/org/import', content_type='multipart/form-data', data=csv_upload(
        [['货运处', '一分会', '装卸一班', '冒名', 'X1', '职工', '']],
        header=('单位', '分会', '班组', '姓名', '工号', '角色', '用户名')))
    assert response.status_code == 422 and '无权导入' in text(response)
    assert Member.select().count() == 0
