"""The organisation tree (unit → branch → team → member) and the people who act in it."""
import datetime

from peewee import (AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, TextField)

from .db import BaseModel, JSONField


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Unit(BaseModel):
    id = AutoField()
    code = CharField(max_length=40, unique=True)
    name = CharField(max_length=100, unique=True)
    # Unit-level choices, e.g. who reviews a chair's own team ('party_secretary' or 'union_staff')
    # and whether the party secretary co-signs stage approvals.
    settings = JSONField(default=dict)

    def setting(self, key, default=None):
        return (self.settings or {}).get(key, default)


class Branch(BaseModel):
    id = AutoField()
    unit = ForeignKeyField(Unit, backref='branches', on_delete='RESTRICT')
    name = CharField(max_length=100)

    class Meta:
        indexes = ((('unit', 'name'), True),)


class Team(BaseModel):
    id = AutoField()
    branch = ForeignKeyField(Branch, backref='teams', on_delete='RESTRICT')
    name = CharField(max_length=100)

    class Meta:
        indexes = ((('branch', 'name'), True),)


class User(BaseModel):
    id = AutoField()
    username = CharField(max_length=60, unique=True)
    display_name = CharField(max_length=60)
    password_hash = TextField(null=True)
    active = BooleanField(default=True)
    is_system = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    # Signed-in browsers are rows of user_session (models/security.py), several per person.

    def __str__(self):
        return self.display_name


class Member(BaseModel):
    """A worker (职工) on a team; linked to a user account when they have one."""
    id = AutoField()
    team = ForeignKeyField(Team, backref='members', on_delete='CASCADE')
    name = CharField(max_length=60)
    employee_no = CharField(max_length=40, null=True)
    user = ForeignKeyField(User, backref='memberships', null=True, on_delete='SET NULL')

    class Meta:
        indexes = ((('team', 'employee_no'), True),)


ROLES = ('team_leader', 'branch_chair', 'party_secretary', 'union_staff', 'auditor', 'system')


class RoleAssignment(BaseModel):
    """One role held by a user over one place: a team, a branch, a unit, or (auditor, system) everywhere."""
    id = AutoField()
    user = ForeignKeyField(User, backref='roles', on_delete='CASCADE')
    role = CharField(max_length=20, index=True)
    unit = ForeignKeyField(Unit, null=True, on_delete='CASCADE')
    branch = ForeignKeyField(Branch, null=True, on_delete='CASCADE')
    team = ForeignKeyField(Team, null=True, on_delete='CASCADE')

    class Meta:
        indexes = ((('user', 'role', 'unit', 'branch', 'team'), True),)
