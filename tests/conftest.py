"""Fixtures: a fresh database per test (SQLite file, or $TEST_DATABASE_URL) and a small organisation."""
import os
import uuid

import pytest

import engine
from engine.organisation import org
from models import (ALL_MODELS, Campaign, Participation, Application, InnovationResult, Team, Unit, Branch, User,
                    create_schema, database, open_database)


def _url(tmp_path):
    base = os.environ.get('TEST_DATABASE_URL')
    if base:
        return base
    return f'sqlite:///{tmp_path}/test.db'


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv('CHUANGZHENG_UPLOADS', str(tmp_path / 'uploads'))
    url = _url(tmp_path)
    database_ = open_database(url)
    if not url.startswith('sqlite'):
        database_.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        database_.execute_sql('CREATE SCHEMA public')
    create_schema()
    yield database_
    database_.close()


FAST_HASH = None


def password_hash():
    global FAST_HASH
    if FAST_HASH is None:
        FAST_HASH = org.hash_password('secret123')
    return FAST_HASH


class World:
    """Unit 货运处 with branches 一分会 (teams 装卸一班, 装卸二班 led by the chair) and 二分会 (team 调度班),
    plus another unit 客运处 with 售票班."""

    def user(self, username, name):
        return org.get_or_create_user(username, name, password_hash())

    def __init__(self):
        self.unit = Unit.create(code='HY', name='货运处')
        self.b1 = Branch.create(unit=self.unit, name='一分会')
        self.b2 = Branch.create(unit=self.unit, name='二分会')
        self.t1 = Team.create(branch=self.b1, name='装卸一班')
        self.t2 = Team.create(branch=self.b1, name='装卸二班')
        self.t3 = Team.create(branch=self.b2, name='调度班')
        self.other_unit = Unit.create(code='KY', name='客运处')
        self.ob = Branch.create(unit=self.other_unit, name='客运一分会')
        self.ot = Team.create(branch=self.ob, name='售票班')
        self.leader1 = self.user('leader1', '张班长')
        self.chair1 = self.user('chair1', '李主席')      # chair of 一分会 and leader of 装卸二班
        self.secretary1 = self.user('secretary1', '王书记')
        self.leader3 = self.user('leader3', '赵班长')
        self.chair2 = self.user('chair2', '刘主席')
        self.secretary2 = self.user('secretary2', '陈书记')
        self.staff = self.user('staff', '周干事')
        self.staff2 = self.user('staff2', '吴干事')
        self.auditor = self.user('auditor', '郑审计')
        self.other_leader = self.user('other_leader', '孙班长')
        self.other_staff = self.user('other_staff', '钱干事')
        org.assign_role(self.leader1, 'team_leader', team=self.t1)
        org.assign_role(self.chair1, 'team_leader', team=self.t2)
        org.assign_role(self.chair1, 'branch_chair', branch=self.b1)
        org.assign_role(self.secretary1, 'party_secretary', branch=self.b1)
        org.assign_role(self.leader3, 'team_leader', team=self.t3)
        org.assign_role(self.chair2, 'branch_chair', branch=self.b2)
        org.assign_role(self.secretary2, 'party_secretary', branch=self.b2)
        org.assign_role(self.staff, 'union_staff', unit=self.unit)
        org.assign_role(self.staff2, 'union_staff', unit=self.unit)
        org.assign_role(self.auditor, 'auditor')
        org.assign_role(self.other_leader, 'team_leader', team=self.ot)
        org.assign_role(self.other_staff, 'union_staff', unit=self.other_unit)
        self.system = org.system_user()
        self.campaign = engine.create('campaign', self.staff, {'unit_id': self.unit.id, 'title': '创建学习型班组活动',
                                                                'period': '2025-2027'})

    def launch(self):
        self.campaign = engine.fire(self.campaign, 'launch', self.staff)
        return self.campaign

    def enrol(self, team=None, leader=None):
        return engine.create('participation', leader or self.leader1,
                             {'team_id': (team or self.t1).id, 'campaign_id': self.campaign.id})


@pytest.fixture
def world(db):
    return World()


def set_state(record, state, **fields):
    """Test set-up only: put a record straight into a state, bypassing the engine."""
    model = type(record)
    model.update(state=state, **fields).where(model.id == record.id).execute()
    return model.get_by_id(record.id)
