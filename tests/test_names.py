"""Names refuse control characters and bidi controls wherever they enter (engine, UI forms, API), and the exports
never fail on what is stored, even text that went around those checks (issue 9 item 11)."""
import csv
import io

import openpyxl
import pytest

import engine
from engine import names
from engine.organisation import org
from engine.errors import BadInput
from models import (AuditRecord, Campaign, CommendationDecision, InnovationResult, Requirement, Team, Unit, User)

from scenarios import application_in, innovation_in, participation_in
from web_fixtures import app, site, text  # noqa: F401  (fixtures used by name)

REFUSED = {'NUL': '\x00', 'BEL': '\x07', 'tab': '\t', 'newline': '\n', 'ESC': '\x1b', 'DEL': '\x7f',
           'C1 NEL': '\x85', 'C1 CSI': '\x9b', 'right-to-left override': '\u202e', 'left-to-right embedding': '\u202a',
           'first strong isolate': '\u2068', 'right-to-left mark': '\u200f', 'Arabic letter mark': '\u061c',
           'line separator': '\u2028', 'non-character': '\uffff'}
ALLOWED = ['装卸一班', '张三', 'Zhang San', '货工〔2026〕12号', '班组①', 'Ｈ００１', '😀 团队', '\ue000 生僻字',
           'O\'Brien-Li (2)', 'a' * 200]


@pytest.mark.parametrize('what', list(REFUSED))
def test_the_validator_refuses(what):
    message = names.problem(f'装卸{REFUSED[what]}一班')
    assert message and f'U+{ord(REFUSED[what]):04X}' in message and '(' in message


@pytest.mark.parametrize('name', ALLOWED)
def test_the_validator_allows(name):
    assert names.problem(name) is None


# ------------------------------------------------------------------------------------------- engine

def test_engine_refuses_a_campaign_title_with_a_control_character(world):
    with pytest.raises(BadInput) as info:
        engine.create('campaign', world.staff, {'unit_id': world.unit.id, 'title': '创建\x07活动', 'period': '2027'})
    assert 'title' in str(info.value.details)
    assert Campaign.select().count() == 1


def test_engine_refuses_an_innovation_title_with_an_override(world):
    world.launch()
    with pytest.raises(BadInput):
        engine.create('innovation', world.leader1, {'team_id': world.t1.id, 'campaign_id': world.campaign.id,
                                                    'year': 2026, 'title': 'gpj.\u202eexe', 'topic': 'efficiency'})
    assert InnovationResult.select().count() == 0


def test_a_unit_name_with_a_control_character_is_refused(db):
    with pytest.raises(BadInput) as info:
        org.create_unit('KY', '客运\x1b处')
    assert 'U+001B' in info.value.message and not Unit.select().exists()


# ------------------------------------------------------------------------------------------- UI forms

def test_ui_refuses_an_innovation_title_with_a_bel(site):
    world = site.world
    world.launch()
    response = site.client('leader1').post(f'/teams/{world.t1.id}/innovations', data={
        'campaign_id': world.campaign.id, 'year': 2026, 'title': '装车\a提效', 'topic': 'efficiency'})
    assert response.status_code == 422 and 'title' in text(response)
    assert InnovationResult.select().count() == 0


def test_ui_refuses_a_decision_with_an_override_in_its_number(site):
    world = site.world
    waiting = application_in(world, 'notice_closed')
    response = site.client('staff').post(f'/campaigns/{world.campaign.id}/commendations', data={
        'doc_number': '货工〔2026〕\u202e21号', 'title': '表彰决定', 'year': 2026, 'application_ids': [waiting.id]})
    assert response.status_code == 422 and 'doc_number' in text(response)
    assert CommendationDecision.select().count() == 0


def test_ui_refuses_a_requirement_title_with_a_control_character(site):
    world = site.world
    requirement = Requirement.select().where(Requirement.campaign == world.campaign).order_by(Requirement.id).first()
    campaign = Campaign.get_by_id(world.campaign.id)
    response = site.client('staff').post(f'/campaigns/{campaign.id}/requirements/{requirement.id}', data={
        'version': campaign.version, 'title_zh': '共同\x1b愿景', 'active': 'true'})
    assert response.status_code == 422 and 'title_zh' in text(response) and 'U+001B' in text(response)
    assert Requirement.get_by_id(requirement.id).title_zh == requirement.title_zh


# ------------------------------------------------------------------------------------------- API

class Api:
    def __init__(self, app):
        self.http, self.secrets = app.test_client(), {}

    def post(self, path, who, body, method='POST', version=None):
        if who not in self.secrets:
            self.secrets[who] = engine.organisation.tokens.create_token(User.get(User.username == who), 'test')[1]
        headers = {'Authorization': f'Bearer {self.secrets[who]}'}
        if version is not None:
            headers['If-Match'] = f'"{version}"'
        return self.http.open(f'/api/v1{path}', method=method, json=body, headers=headers)


def refused_field(response, field):
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body['error'] == 'bad_input' and field in body['details']['fields'], body
    assert 'U+' in str(body['details']['fields'][field])


def test_api_refuses_control_characters_in_names(site):
    world, api = site.world, Api(site.app)
    world.launch()
    refused_field(api.post('/innovations', 'leader1', {'team_id': world.t1.id, 'campaign_id': world.campaign.id,
                                                        'year': 2026, 'title': '装车\u0007提效', 'topic': 'cost'}),
                  'title')
    campaign = Campaign.get_by_id(world.campaign.id)
    refused_field(api.post(f'/campaigns/{campaign.id}/requirements', 'staff', {
        'stage': 'popularization', 'code': 'safety_talk', 'title_zh': '安全\u2067讲评', 'title_en': 'Safety talk'},
        version=campaign.version), 'title_zh')
    requirement = Requirement.select().where(Requirement.campaign == campaign).first()
    refused_field(api.post(f'/campaigns/{campaign.id}/requirements/{requirement.id}', 'staff',
                           {'title_en': 'Vision\u0085'}, method='PATCH', version=campaign.version), 'title_en')
    waiting = application_in(world, 'notice_closed')
    refused_field(api.post(f'/campaigns/{world.campaign.id}/decisions', 'staff', {
        'doc_number': '货工\u202e12号', 'title': '表彰', 'year': 2026, 'application_ids': [waiting.id]}), 'doc_number')
    assert InnovationResult.select().count() == 0 and CommendationDecision.select().count() == 0


# ------------------------------------------------------------------------------------------- exports

def test_the_excel_export_survives_control_characters_stored_in_the_database(site):
    world = site.world
    participation_in(world, 'stage_reached')
    innovation_in(world, 'approved')
    # written straight into the database, around every check: data from before names were checked
    Team.update(name='装卸\a一班').where(Team.id == world.t1.id).execute()
    InnovationResult.update(title='\x1b[31m装车\x08提效').execute()           # (PostgreSQL stores no NUL)
    response = site.client('staff').get(f'/campaigns/{world.campaign.id}/export.xlsx')
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    teams = [row[1] for row in book['参与情况'].iter_rows(min_row=2, values_only=True)]
    assert '装卸\ufffd一班' in teams
    titles = [row[3] for row in book['创新成果'].iter_rows(min_row=2, values_only=True)]
    assert titles == ['\ufffd[31m装车\ufffd提效']


def test_the_audit_csv_export_carries_control_characters_stored_in_the_database(site):
    world = site.world
    User.update(display_name='周\a干事').where(User.id == world.staff.id).execute()
    world.staff = User.get_by_id(world.staff.id)
    world.launch()                                        # audited with the actor's name as stored
    response = site.client('auditor').get('/audit/export.csv')
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    launch = next(r for r in rows[1:] if r[4] == 'launch')
    assert launch[8] == '周\a干事'                         # the auditor gets the data exactly as stored
    assert AuditRecord.select().where(AuditRecord.event == 'launch').count() == 1
