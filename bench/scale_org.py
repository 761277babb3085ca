"""The provincial organisation for bench/scale.py: the demo unit (4 branches × 10 teams, every role) cloned into
many units of many branches and teams, with a map from each demo user to the synthetic user who plays that
part next to a given team. Pure data: no database here."""
import random
from dataclasses import dataclass, field

from cli.demo import GIVEN, SURNAMES


@dataclass
class Plan:
    teams: int
    teams_per_branch: int = 100
    branches_per_unit: int = 20

    @property
    def branches(self):
        return -(-self.teams // self.teams_per_branch)

    @property
    def units(self):
        return -(-self.branches // self.branches_per_unit)


@dataclass
class TeamCopy:
    """One synthetic team: which demo team it copies and who plays each demo person next to it."""
    id: int
    unit: int                 # unit index (0-based); unit id = unit + 1
    template: int             # demo team id
    users: dict               # demo user id -> (user id, display name), this team's own people
    unit_users: dict          # shared with the whole unit (fallback)
    ids: dict = field(default_factory=dict)   # (object type, demo id) -> new id


class Organisation:
    """Rows for unit, branch, team, user, member, role_assignment; TeamCopy for every team."""

    def __init__(self, plan, demo, password_hash):
        self.plan, self.demo, self.password_hash = plan, demo, password_hash
        self.rng = random.Random(20261126)
        self.rows = {name: [] for name in ('unit', 'branch', 'team', 'user', 'member', 'role_assignment')}
        self.copies, self.by_template, self.unit_users = [], {}, []
        self.demo_branches = sorted(b['id'] for b in demo['branch'])
        self.demo_teams = {b: sorted(t['id'] for t in demo['team'] if t['branch_id'] == b) for b in self.demo_branches}
        self.roles = {}           # demo user id -> list of its role rows
        for r in demo['role_assignment']:
            self.roles.setdefault(r['user_id'], []).append(r)
        self.leader_of = {r['team_id']: r['user_id'] for r in demo['role_assignment'] if r['role'] == 'team_leader'}
        self.chair_of = {r['branch_id']: r['user_id'] for r in demo['role_assignment'] if r['role'] == 'branch_chair'}
        self.secretary_of = {r['branch_id']: r['user_id'] for r in demo['role_assignment']
                             if r['role'] == 'party_secretary'}

    def _name(self):
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _user(self, username, is_system=False):
        uid = len(self.rows['user']) + 1
        name = '系统' if is_system else self._name()
        self.rows['user'].append((uid, username, name, None if is_system else self.password_hash, True, is_system,
                                  '2025-03-03 01:00:00'))
        return uid, name

    def _role(self, user, role, unit=None, branch=None, team=None):
        self.rows['role_assignment'].append((len(self.rows['role_assignment']) + 1, user[0], role, unit, branch, team))

    def build(self):
        demo_unit = self.demo['unit'][0]
        self.auditor, self.system = self._user('auditor'), self._user('system', is_system=True)
        self._role(self.auditor, 'auditor')
        self._role(self.system, 'system')
        staff_ids = sorted(r['user_id'] for r in self.demo['role_assignment'] if r['role'] == 'union_staff')
        branches_left = self.plan.branches
        for u in range(self.plan.units):
            unit_id = u + 1
            self.rows['unit'].append((unit_id, f'P{unit_id:03d}', f'{demo_unit["name"]}{unit_id:03d}',
                                      demo_unit['settings']))
            unit_users = {}
            for n, demo_uid in enumerate(staff_ids):
                unit_users[demo_uid] = self._user(f'p{unit_id}staff{n + 1}')
                self._role(unit_users[demo_uid], 'union_staff', unit=unit_id)
            unit_users[self._demo_user('auditor')] = self.auditor
            unit_users[self._demo_user('system')] = self.system
            self.unit_users.append(unit_users)
            count = min(self.plan.branches_per_unit, branches_left)
            branches_left -= count
            for j in range(count):
                self._branch(u, j, unit_users)
        return self

    def _demo_user(self, role):
        return next(r['user_id'] for r in self.demo['role_assignment'] if r['role'] == role)

    def _branch(self, u, j, unit_users):
        unit_id = u + 1
        branch_id = len(self.rows['branch']) + 1
        template_branch = self.demo_branches[j % len(self.demo_branches)]
        demo_branch = next(b for b in self.demo['branch'] if b['id'] == template_branch)
        self.rows['branch'].append((branch_id, unit_id, f'{demo_branch["name"]}{j // len(self.demo_branches) + 1}'))
        chair = self._user(f'p{unit_id}b{branch_id}chair')
        secretary = self._user(f'p{unit_id}b{branch_id}secretary')
        self._role(chair, 'branch_chair', unit=unit_id, branch=branch_id)
        self._role(secretary, 'party_secretary', unit=unit_id, branch=branch_id)
        branch_users = {self.chair_of[template_branch]: chair, self.secretary_of[template_branch]: secretary}
        for demo_uid, user in branch_users.items():     # the first copy of a demo branch stands in for it unit-wide
            unit_users.setdefault(demo_uid, user)
        templates = self.demo_teams[template_branch]
        group = {}
        for k in range(self.plan.teams_per_branch):
            if len(self.copies) >= self.plan.teams:
                return
            if k % len(templates) == 0:
                group = dict(branch_users)
            self._team(unit_id, branch_id, templates[k % len(templates)], k, group, unit_users)

    def _team(self, unit_id, branch_id, template, k, group, unit_users):
        team_id = len(self.rows['team']) + 1
        demo_team = next(t for t in self.demo['team'] if t['id'] == template)
        self.rows['team'].append((team_id, branch_id, f'{demo_team["name"]}{k + 1:03d}'))
        demo_leader = self.leader_of.get(template)
        if demo_leader in group:                  # the demo's chair leads this team: so does this branch's chair
            leader = group[demo_leader]
        else:
            leader = self._user(f'p{unit_id}t{team_id}leader')
            group[demo_leader] = leader
            unit_users.setdefault(demo_leader, leader)
        self._role(leader, 'team_leader', unit=unit_id, branch=branch_id, team=team_id)
        for n in range(5):
            member_id = len(self.rows['member']) + 1
            self.rows['member'].append((member_id, team_id, leader[1] if n == 0 else self._name(),
                                        f'P{team_id:06d}{n:02d}', leader[0] if n == 0 else None))
        copy = TeamCopy(team_id, unit_id - 1, template, group, unit_users)
        self.copies.append(copy)
        self.by_template.setdefault(template, []).append(copy)

    def person(self, copy, demo_uid):
        """The synthetic (user id, name) playing demo user `demo_uid` next to `copy`'s team."""
        if demo_uid is None:
            return None, None
        return copy.users.get(demo_uid) or copy.unit_users.get(demo_uid) or self.auditor
