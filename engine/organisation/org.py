"""Building the organisation: units, branches, teams, members, users and their role assignments."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

import re

from models import Branch, Member, RoleAssignment, Team, Unit, User, UserSession, database

from engine.chain import audit
from engine import names

from engine.errors import BadInput

# argon2id, memory-hard, with OWASP's minimum configuration (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1):
# about 27 ms of one core here. Releases before used argon2-cffi's default (64 MiB, t=3, p=4: 128 ms on two
# cores, about 250 ms of CPU), and 41 people signing in at once waited a median 5.7 s (docs/PERFORMANCE.md,
# "Morning rush"). One lane (p=1): a sign-in takes one core, so the workers share the cores instead of each
# hash competing for all of them.
HASH_PARAMETERS = {'time_cost': 2, 'memory_cost': 19 * 1024, 'parallelism': 1}
_hasher = PasswordHasher(**HASH_PARAMETERS)


def hash_password(password):
    return _hasher.hash(password)


def set_password(user, password):
    """A new password; every session of the user ends, so whoever signed in with the old one is out too."""
    with database.atomic():
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
        UserSession.delete().where(UserSession.user == user.id).execute()


def check_password(user, password):
    """Whether `password` is the user's. A hash made with other parameters (those of an earlier release) is
    replaced by one with the current parameters once the password is known to be right, unless the password
    was changed meanwhile."""
    if not user.password_hash or not user.active:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        old, user.password_hash = user.password_hash, _hasher.hash(password)
        User.update(password_hash=user.password_hash).where(User.id == user.id, User.password_hash == old).execute()
    return True


def scope_columns(unit=None, branch=None, team=None):
    """Fill the parents of the narrowest scope given, so scope checks are plain column comparisons."""
    if team is not None:
        team = team if isinstance(team, Team) else Team.get_by_id(team)
        branch = team.branch
    if branch is not None:
        branch = branch if isinstance(branch, Branch) else Branch.get_by_id(branch)
        unit = branch.unit_id
    if unit is not None and isinstance(unit, Unit):
        unit = unit.id
    return {'unit': unit, 'branch': branch.id if branch else None, 'team': team.id if team else None}


SCOPE_OF_ROLE = {'team_leader': 'team', 'branch_chair': 'branch', 'party_secretary': 'branch',
                 'union_staff': 'unit', 'auditor': None, 'system': None}


def assign_role(user, role, unit=None, branch=None, team=None):
    if role not in SCOPE_OF_ROLE:
        raise BadInput(f'未知角色 {role!r} (unknown role)')
    needed = SCOPE_OF_ROLE[role]
    given = {'team': team, 'branch': branch, 'unit': unit}
    if needed and given[needed] is None:
        raise BadInput(f'角色 {role} 需要指定{needed} (role needs a {needed})')
    columns = scope_columns(**{needed: given[needed]}) if needed else {'unit': None, 'branch': None, 'team': None}
    existing = RoleAssignment.get_or_none(user=user, role=role, **{k: v for k, v in columns.items()})
    return existing or RoleAssignment.create(user=user, role=role, **columns)


def get_or_create_user(username, display_name, password_hash=None):
    user = User.get_or_none(User.username == username)
    if user is None:
        user = User.create(username=username, display_name=display_name, password_hash=password_hash)
    return user


def system_user():
    """The actor of scheduled steps (公示 ending, …)."""
    user = User.get_or_none(User.username == 'system')
    if user is None:
        user = User.create(username='system', display_name='系统', is_system=True, password_hash=None)
        assign_role(user, 'system')
    return user


def add_member(team, name, employee_no=None, user=None):
    return Member.create(team=team, name=name, employee_no=employee_no, user=user)


def create_unit(code, name, settings=None):
    """A new unit (处), created by an administrator; audited as the system's act."""
    code, name = (code or '').strip(), (name or '').strip()
    if not re.fullmatch(r'[A-Za-z0-9_-]{1,40}', code):
        raise BadInput('单位代码应为1–40位字母、数字、_ 或 - (unit code: 1-40 letters, digits, _ or -)')
    if not 1 <= len(name) <= 100:
        raise BadInput('单位名称应为1–100个字 (unit name: 1-100 characters)')
    if names.problem(name):
        raise BadInput(f'单位名称{names.problem(name)}')
    with database.atomic():
        if Unit.select().where((Unit.code == code) | (Unit.name == name)).exists():
            raise BadInput(f'单位「{name}」或代码 {code} 已存在 (unit already exists)')
        unit = Unit.create(code=code, name=name, settings=settings or {})
        audit.append('unit', unit.id, 'create_unit', None, None, system_user(), 'system', None,
                     {'code': code, 'name': name, 'settings': settings or {}})
    return unit
