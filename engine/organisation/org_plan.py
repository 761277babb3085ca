"""The database side of the organisation import: what exists, read in a few queries; the import worked out in
memory row by row; then written with bulk inserts, so the write transaction stays short however long the file.

The rules are those of engine/org_import.py: a member is the same person when the team and 工号 match, or the
team and name when the member has no 工号 yet; rows complete members (工号, account) but never change them."""
import dataclasses

from peewee import chunked

from models import Branch, Member, RoleAssignment, Team, User

CHUNK = 100        # rows per bulk statement: at most ~600 parameters, under every SQLite build's limit


@dataclasses.dataclass(eq=False)
class PlannedUser:
    id: object
    username: object
    display_name: object = None
    is_system: bool = False


@dataclasses.dataclass(eq=False)
class PlannedMember:
    id: object                 # None: created by this import
    team: tuple                # ((unit id, branch name), team name)
    name: str
    employee_no: object
    user: object               # a PlannedUser or None


@dataclasses.dataclass
class Counts:
    branches: int = 0
    teams: int = 0
    members: int = 0
    members_updated: int = 0
    users: int = 0
    roles: int = 0
    rows: int = 0
    unchanged_rows: int = 0

    def add(self, other):
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def changes(self):
        return dataclasses.astuple(self)[:-2]

    def summary(self):
        updated = f', {self.members_updated} members updated' if self.members_updated else ''
        return (f'imported {self.branches} branches, {self.teams} teams, {self.members} members, '
                f'{self.users} users, {self.roles} roles{updated} ({self.unchanged_rows} unchanged rows)')


def _in_chunks(query_of, values):
    for chunk in chunked(sorted(set(values)), 500):
        yield from query_of(chunk)


class Snapshot:
    """The branches, teams, members, users and roles the rows can touch, keyed by names so that what this
    import creates fits in next to what exists."""

    def __init__(self, rows):
        unit_ids = {row.unit_obj.id for row in rows}
        self.branch_ids = {(b.unit_id, b.name): b.id
                           for b in Branch.select(Branch.id, Branch.unit, Branch.name).where(Branch.unit.in_(unit_ids))}
        named = {(row.unit_obj.id, row.branch) for row in rows if row.branch}
        branch_of_id = {i: key for key, i in self.branch_ids.items() if key in named}
        self.team_ids = {(branch_of_id[t.branch_id], t.name): t.id for t in _in_chunks(
            lambda ids: Team.select(Team.id, Team.branch, Team.name).where(Team.branch.in_(ids)), branch_of_id)}
        wanted = {((row.unit_obj.id, row.branch), row.team) for row in rows if row.team}
        team_of_id = {i: key for key, i in self.team_ids.items() if key in wanted}

        self.users, self.user_by_id = {}, {}
        for user in _in_chunks(lambda names: User.select(User.id, User.username, User.display_name, User.is_system)
                               .where(User.username.in_(names)), {row.username for row in rows if row.username}):
            self.users[user.username] = self.user_by_id[user.id] = PlannedUser(
                user.id, user.username, user.display_name, user.is_system)

        self.by_no, self.by_name = {}, {}
        members = _in_chunks(lambda ids: Member.select(Member.id, Member.team, Member.name, Member.employee_no,
                                                       Member.user).where(Member.team.in_(ids)), team_of_id)
        for member in sorted(members, key=lambda m: m.id):
            user = None
            if member.user_id is not None:
                user = self.user_by_id.setdefault(member.user_id, PlannedUser(member.user_id, None))
            self.add_member(PlannedMember(member.id, team_of_id[member.team_id], member.name, member.employee_no, user))

        self.roles = {(r.user_id, r.role, r.unit_id, r.branch_id, r.team_id) for r in _in_chunks(
            lambda ids: RoleAssignment.select().where(RoleAssignment.user.in_(ids)),
            [u.id for u in self.users.values()])}

    def add_member(self, member):
        if member.employee_no is not None:
            self.by_no[(member.team, member.employee_no)] = member
        self.by_name.setdefault((member.team, member.name), []).append(member)

    def find_member(self, team, row):
        """The member a row stands for: same 工号 in the team; or, failing that, same name (with no 工号
        recorded when the row gives one)."""
        if row.employee_no:
            member = self.by_no.get((team, row.employee_no))
            if member is not None:
                return member
            return next((m for m in self.by_name.get((team, row.name), ()) if m.employee_no is None), None)
        return next(iter(self.by_name.get((team, row.name), ())), None)

    def user_of(self, row):
        return self.users.get(row.username) if row.username else None

    def username(self, user):
        if user.username is None:
            found = User.get_or_none(User.id == user.id)
            user.username = found.username if found else f'#{user.id}'
        return user.username


def member_conflict(snapshot, member, row, user):
    """Why the row cannot be this member, as (column key, message), or None."""
    if member.name != row.name:
        return ('name', f'班组「{row.team}」里工号 {row.employee_no} 已属于「{member.name}」，不是「{row.name}」 '
                        f'(employee number already belongs to another member of this team)')
    if row.username and member.user is not None and member.user is not user:
        linked = snapshot.username(member.user)
        return ('username', f'班组「{row.team}」的职工「{row.name}」已关联账号「{linked}」，不是「{row.username}」 '
                            f'(this member is already linked to another account)')
    return None


@dataclasses.dataclass
class Plan:
    snapshot: Snapshot
    counts: dict                                          # unit id -> Counts
    branches: list = dataclasses.field(default_factory=list)     # (unit id, name)
    teams: list = dataclasses.field(default_factory=list)        # (branch key, name)
    users: list = dataclasses.field(default_factory=list)        # PlannedUser
    members: list = dataclasses.field(default_factory=list)      # PlannedMember
    updated: dict = dataclasses.field(default_factory=dict)      # PlannedMember -> True (ordered set)
    roles: list = dataclasses.field(default_factory=list)        # (PlannedUser, role, unit id, branch key, team key)
    planned_roles: set = dataclasses.field(default_factory=set)


def plan(rows, snapshot, conflict):
    """Work the import out row by row in memory; `conflict(row, key, message)` is told about a row that cannot
    be applied to what exists and what the rows before it created."""
    result = Plan(snapshot, {row.unit_obj.id: Counts() for row in rows})
    new_branches, new_teams = set(), set()
    for row in rows:
        counts = result.counts[row.unit_obj.id]
        before = counts.changes()
        unit_id = row.unit_obj.id
        branch = team = None
        if row.branch:
            branch = (unit_id, row.branch)
            if branch not in snapshot.branch_ids and branch not in new_branches:
                new_branches.add(branch)
                result.branches.append(branch)
                counts.branches += 1
        if row.team:
            team = (branch, row.team)
            if team not in snapshot.team_ids and team not in new_teams:
                new_teams.add(team)
                result.teams.append(team)
                counts.teams += 1
        user = snapshot.user_of(row)
        if row.username and user is None:
            user = snapshot.users[row.username] = PlannedUser(None, row.username, row.name)
            result.users.append(user)
            counts.users += 1
        if row.level == 'team':
            member = snapshot.find_member(team, row)
            if member is None:
                member = PlannedMember(None, team, row.name, row.employee_no or None, user)
                snapshot.add_member(member)
                result.members.append(member)
                counts.members += 1
            else:
                problem = member_conflict(snapshot, member, row, user)
                if problem:
                    conflict(row, *problem)
                    continue
                changed = False
                if row.employee_no and member.employee_no is None:
                    member.employee_no = row.employee_no
                    snapshot.by_no[(team, row.employee_no)] = member
                    changed = True
                if user is not None and member.user is None:
                    member.user, changed = user, True
                if changed and member.id is not None:
                    result.updated[member] = True
                    counts.members_updated += 1
        if row.role != 'member':
            place = {'team': (unit_id, branch, team), 'branch': (unit_id, branch, None),
                     'unit': (unit_id, None, None)}[row.level]
            key = (user, row.role) + place
            if key not in result.planned_roles and not _held(snapshot, user, row.role, place):
                result.planned_roles.add(key)
                result.roles.append(key)
                counts.roles += 1
        counts.rows += 1
        if counts.changes() == before:
            counts.unchanged_rows += 1
    return result


def _held(snapshot, user, role, place):
    unit_id, branch, team = place
    branch_id = snapshot.branch_ids.get(branch) if branch else None
    team_id = snapshot.team_ids.get(team) if team else None
    if user.id is None or (branch and branch_id is None) or (team and team_id is None):
        return False           # something in it is new: nobody can hold the role yet
    return (user.id, role, unit_id, branch_id, team_id) in snapshot.roles


def write(result):
    """Create and update what the plan says, in the caller's transaction: one statement per new branch and team,
    bulk inserts for users, members and roles, one update per completed member."""
    snapshot = result.snapshot
    for unit_id, name in result.branches:
        snapshot.branch_ids[(unit_id, name)] = Branch.create(unit=unit_id, name=name).id
    for branch, name in result.teams:
        snapshot.team_ids[(branch, name)] = Team.create(branch=snapshot.branch_ids[branch], name=name).id
    for chunk in chunked(result.users, CHUNK):
        User.insert_many([{'username': u.username, 'display_name': u.display_name, 'password_hash': None}
                          for u in chunk]).execute()
    by_name = {u.username: u for u in result.users}
    for user in _in_chunks(lambda names: User.select(User.id, User.username).where(User.username.in_(names)),
                           by_name):
        by_name[user.username].id = user.id
    for chunk in chunked(result.members, CHUNK):
        Member.insert_many([{'team': snapshot.team_ids[m.team], 'name': m.name, 'employee_no': m.employee_no,
                             'user': m.user.id if m.user else None} for m in chunk]).execute()
    for member in result.updated:
        Member.update(employee_no=member.employee_no, user=member.user.id if member.user else None) \
            .where(Member.id == member.id).execute()
    for chunk in chunked(result.roles, CHUNK):
        RoleAssignment.insert_many([{'user': user.id, 'role': role, 'unit': unit_id,
                                     'branch': snapshot.branch_ids[branch] if branch else None,
                                     'team': snapshot.team_ids[team] if team else None}
                                    for user, role, unit_id, branch, team in chunk]).execute()
