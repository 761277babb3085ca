"""Importing the organisation (branches, teams, members, users, roles) from an .xlsx or .csv file.

All rows or none: every row is checked first and every problem is reported with its row number (as Excel
shows it: the header is row 1), its column and a message in Chinese with English in parentheses; only a
file without a single problem is imported, in one database transaction, with one audit record per unit.

The file: the first sheet of an .xlsx workbook, or a CSV file (UTF-8 with or without BOM, GBK/GB18030 as
Chinese Excel saves it, or UTF-16 "Unicode text"), with a header row naming the columns in Chinese or
English (a title row above the header is allowed; unknown columns such as 序号 or 备注 are ignored):

    单位 unit         unit code or name; the unit must already exist (optional when a default unit is given)
    分会 branch       created when missing; empty only for 处工会 (unit-level) people
    班组 team         created when missing; required for 职工 and 班组长, empty for everyone else
    姓名 name         required
    工号 employee_no  optional; identifies a member within a team
    角色 role         职工 member (the default when empty), 班组长 team_leader, 分会主席 branch_chair,
                      支部书记 party_secretary, 处工会 union_staff
    用户名 username   the login; required for every role but 职工. New users get no password
                      (`flask --app web set-password USERNAME` gives them one).

A person with several roles takes one row per role with the same username. 职工 and 班组长 rows also add the
person to the team's member list (班组长 are workers of their team too), skipping anyone already there
(same team and 工号, or same team and name when no 工号 is given). Importing the same file again changes
nothing.
"""
import contextlib
import csv
import dataclasses
import datetime
import hashlib
import io
import logging
import os
import re
import sys
import unicodedata
import warnings
import zipfile

import click
from peewee import DatabaseError

from models import Branch, Member, RoleAssignment, Team, Unit, User, database

from . import audit
from .errors import BadInput
from .org import add_member, assign_role, get_or_create_user, scope_columns, system_user

security_log = logging.getLogger('chuangzheng.security')

EXTENSIONS = ('.xlsx', '.xlsm', '.csv')
MAX_BYTES = 50 * 1024 * 1024
MAX_REPORT_LINES = 200
HEADER_SEARCH_ROWS = 10      # a title row or two may sit above the header
MAX_BLANK_RUN = 1000         # sheets formatted down to row 1,048,576: stop after this many blank rows

# key: (Chinese label, English label, accepted header texts)
COLUMNS = {
    'unit': ('单位', 'unit', ('单位', '单位名称', '处', 'unit', 'unit_code', 'unit_name')),
    'branch': ('分会', 'branch', ('分会', '分会名称', 'branch', 'branch_name')),
    'team': ('班组', 'team', ('班组', '班组名称', 'team', 'team_name')),
    'name': ('姓名', 'name', ('姓名', 'name', 'display_name', 'full_name')),
    'employee_no': ('工号', 'employee_no', ('工号', '职工工号', 'employee_no', 'employee_number', 'staff_no')),
    'role': ('角色', 'role', ('角色', 'role')),
    'username': ('用户名', 'username', ('用户名', '账号', '登录名', 'username', 'user_name', 'login')),
}
HEADER_ALIASES = {alias: key for key, (_, _, aliases) in COLUMNS.items() for alias in aliases}
REQUIRED_COLUMNS = ('branch', 'name', 'role')

ROLE_LABELS = {'member': '职工', 'team_leader': '班组长', 'branch_chair': '分会主席',
               'party_secretary': '支部书记', 'union_staff': '处工会'}
ROLE_TEXT = {**{label: code for code, label in ROLE_LABELS.items()}, **{code: code for code in ROLE_LABELS}}
LEVEL_OF_ROLE = {'member': 'team', 'team_leader': 'team', 'branch_chair': 'branch',
                 'party_secretary': 'branch', 'union_staff': 'unit'}

USERNAME_RE = re.compile(r'[A-Za-z0-9._-]{3,60}')
NAME_MAX = min(Member.name.max_length, User.display_name.max_length)
LIMITS = {'branch': Branch.name.max_length, 'team': Team.name.max_length, 'name': NAME_MAX,
          'employee_no': Member.employee_no.max_length}

_CJK = '\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff'
_SPACE_BETWEEN_CJK = re.compile(f'(?<=[{_CJK}])\\s+(?=[{_CJK}])')
_INVISIBLE = dict.fromkeys(map(ord, '\ufeff\u200b\u200c\u200d\u2060'), None)


def label(key):
    return COLUMNS[key][0] if key in COLUMNS else key


@dataclasses.dataclass(frozen=True)
class RowError:
    """One problem: `row` as Excel numbers it (header = 1; None for the whole file), `column` the
    Chinese column label (None when no single column is at fault)."""
    row: object
    column: object
    message: str

    def __str__(self):
        where = '文件' if not self.row else f'第 {self.row} 行'
        return f'{where} [{self.column}]: {self.message}' if self.column else f'{where}: {self.message}'

    def as_dict(self):
        return dataclasses.asdict(self)


class ImportFailed(BadInput):
    """Nothing was imported; `errors` lists every problem found (file-level ones have row None)."""

    def __init__(self, errors):
        self.errors = sorted(errors, key=lambda e: (e.row or 0, _column_order(e.column)))
        count = len(self.errors)
        super().__init__(f'导入失败，未导入任何数据：{count} 处错误 (nothing imported: {count} error(s))',
                         {'errors': [e.as_dict() for e in self.errors]})

    @property
    def bad_rows(self):
        """How many distinct rows have a problem (a file-level problem counts as one)."""
        return len({e.row for e in self.errors})

    def report_lines(self, limit=MAX_REPORT_LINES):
        for error in self.errors[:limit]:
            yield str(error)
        if len(self.errors) > limit:
            rest = len(self.errors) - limit
            yield f'…另有 {rest} 处错误未列出 ({rest} more not shown)'


def _column_order(column):
    order = [chinese for chinese, _, _ in COLUMNS.values()]
    return order.index(column) if column in order else -1


def _file_error(message):
    return ImportFailed([RowError(None, None, message)])


# ---------------------------------------------------------------------------------------------- reading

def _clean(value):
    """A cell as trimmed text: integral numbers without '.0', runs of blanks made one space, and the
    blanks between Chinese characters (张　三, used to align names) dropped."""
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        value = value.date()
    text = str(value).translate(_INVISIBLE)
    text = re.sub(r'\s+', ' ', text.replace('\u3000', ' ').replace('\xa0', ' ')).strip()
    return _SPACE_BETWEEN_CJK.sub('', text)


def _header_key(cell):
    """The column a header cell names, or None. Accepts '姓名', 'Name', '姓名*', '姓名（必填）', '姓名/name',
    '姓名 (name)', 'Employee No'."""
    text = unicodedata.normalize('NFKC', _clean(cell)).replace('*', '').strip()
    if not text:
        return None
    candidates = [text]
    outside = re.sub(r'\(.*?\)', ' ', text).strip()
    candidates += [outside] + re.findall(r'\((.*?)\)', text)
    for piece in list(candidates):
        candidates += re.split(r'[/|\s]+', piece)
    for candidate in candidates:
        candidate = candidate.strip()
        for form in (candidate, re.sub(r'[\s\-]+', '_', candidate.lower())):
            if form in HEADER_ALIASES:
                return HEADER_ALIASES[form]
    return None


def _decode(data):
    if data.startswith((b'\xff\xfe', b'\xfe\xff')):
        return data.decode('utf-16')
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError:
        pass
    try:
        return data.decode('gb18030')
    except UnicodeDecodeError:
        raise _file_error('无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV '
                          '(unreadable text encoding: save as UTF-8 or GBK CSV)') from None


def _csv_rows(data):
    text = _decode(data)
    if '\x00' in text:
        raise _file_error('文件内容不是 CSV 文本 (not a CSV text file)')
    first = next((line for line in text.splitlines() if line.strip()), '')
    delimiter = max((',', '\t', ';'), key=first.count) if first else ','
    try:
        return [(number, row) for number, row in
                enumerate(csv.reader(io.StringIO(text, newline=''), delimiter=delimiter), start=1)]
    except csv.Error as err:
        raise _file_error(f'CSV 格式错误：{err} (malformed CSV)') from None


def _xlsx_rows(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')    # Excel extensions openpyxl does not know: harmless here
            import openpyxl
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise _file_error(f'无法读取 Excel 文件，请确认是 .xlsx 格式：{type(err).__name__} '
                          f'(not a readable .xlsx workbook)') from None
    try:
        if not workbook.worksheets:
            return []
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()       # some writers store a wrong sheet size
        rows, blank_run = [], 0
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            if any(_clean(v) for v in values):
                rows.append((number, list(values)))
                blank_run = 0
            else:
                blank_run += 1
                if blank_run >= MAX_BLANK_RUN:
                    break
        return rows
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise _file_error(f'无法读取 Excel 工作表：{type(err).__name__} (unreadable worksheet)') from None
    finally:
        workbook.close()


def _find_header(rows):
    """(index of the header row in `rows`, {column key: cell index}) — the first of the top rows that
    names at least two known columns."""
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(cell) for cell in cells]
        if len({k for k in keys if k}) >= 2:
            return index, keys
    return 0, [_header_key(cell) for cell in rows[0][1]]


@dataclasses.dataclass
class Row:
    number: int
    unit: str = ''
    branch: str = ''
    team: str = ''
    name: str = ''
    employee_no: str = ''
    role: str = 'member'
    username: str = ''
    unit_is_default: bool = False
    unit_obj: object = None
    bad: bool = False

    @property
    def level(self):
        return LEVEL_OF_ROLE.get(self.role)

    def member_key(self):
        who = ('no', self.employee_no) if self.employee_no else ('name', self.name)
        return (self.unit_obj.id, self.branch, self.team) + who


def _extension(filename):
    extension = os.path.splitext(filename or '')[1].lower()
    if extension not in EXTENSIONS:
        hint = '，请在 Excel 中另存为 .xlsx' if extension in ('.xls', '.et', '.wps') else ''
        raise _file_error(f'不支持的文件类型「{extension or os.path.basename(filename or "")}」，'
                          f'只接受 .xlsx 或 .csv{hint} (unsupported file type: use .xlsx or .csv)')
    return extension


def read_rows(data, filename, default_unit=None):
    """Parse the file into Rows (cells checked on their own, no database); returns (rows, errors)."""
    extension = _extension(filename)
    if not data.strip():
        raise _file_error('文件是空的 (the file is empty)')
    raw = _xlsx_rows(data) if extension in ('.xlsx', '.xlsm') else _csv_rows(data)
    raw = [(number, cells) for number, cells in raw if any(_clean(c) for c in cells)]
    if not raw:
        raise _file_error('文件是空的 (the file is empty)')

    header_index, keys = _find_header(raw)
    columns, errors = {}, []
    for position, key in enumerate(keys):
        if key is None:
            continue
        if key in columns:
            errors.append(RowError(raw[header_index][0], label(key),
                                   f'列「{label(key)}」出现了两次 (duplicate column)'))
        columns[key] = position
    required = REQUIRED_COLUMNS + (() if default_unit else ('unit',))
    missing = [key for key in required if key not in columns]
    if missing:
        chinese = '、'.join(label(k) for k in missing)
        english = ', '.join(COLUMNS[k][1] for k in missing)
        hint = '；没有「单位」列时请指定默认单位 (--unit)' if 'unit' in missing else ''
        errors.append(RowError(None, None, f'表头缺少列：{chinese}{hint} (missing columns: {english})'))
    if errors:
        raise ImportFailed(errors)
    body = raw[header_index + 1:]
    if not body:
        raise _file_error('表头下面没有数据行 (no data rows below the header)')

    rows = []
    for number, cells in body:
        values = {key: _clean(cells[pos]) if pos < len(cells) else '' for key, pos in columns.items()}
        rows.append(_check_cells(number, values, default_unit, errors))
    return rows, errors


def _check_cells(number, values, default_unit, errors):
    def bad(key, message):
        errors.append(RowError(number, label(key), message))
        row.bad = True

    row = Row(number, unit=values.get('unit') or (default_unit or ''), unit_is_default=not values.get('unit'),
              branch=values.get('branch', ''),
              team=values.get('team', ''), name=values.get('name', ''),
              employee_no=unicodedata.normalize('NFKC', values.get('employee_no', '')),
              username=unicodedata.normalize('NFKC', values.get('username', '')))
    if not row.unit:
        bad('unit', '缺少单位 (unit is missing)')
    if not row.name:
        bad('name', '缺少姓名 (name is missing)')
    role_text = unicodedata.normalize('NFKC', values.get('role', '')).replace(' ', '')
    if role_text:
        role = ROLE_TEXT.get(role_text) or ROLE_TEXT.get(role_text.lower())
        if role is None:
            bad('role', f'未知角色「{role_text}」，可填 职工/班组长/分会主席/支部书记/处工会 (unknown role)')
        row.role = role
    role_name = ROLE_LABELS.get(row.role)
    if row.role is None:
        pass                                   # unknown role: the level checks below would only guess
    elif row.level == 'team':
        if not row.branch:
            bad('branch', f'{role_name}必须填写分会 (branch is missing)')
        if not row.team:
            bad('team', f'{role_name}必须填写班组 (team is missing)')
    elif row.level == 'branch':
        if not row.branch:
            bad('branch', f'{role_name}必须填写分会 (branch is missing)')
        if row.team:
            bad('team', f'{role_name}是分会一级的角色，班组应留空；如果此人也是班组长或职工，请另起一行 '
                        f'(branch-level role: leave team empty, use another row for a team role)')
    else:
        for key in ('branch', 'team'):
            if row.__dict__[key]:
                bad(key, f'{role_name}是单位一级的角色，{label(key)}应留空 '
                         f'(unit-level role: leave {COLUMNS[key][1]} empty)')
    if row.username:
        if not USERNAME_RE.fullmatch(row.username):
            bad('username', f'用户名「{row.username}」格式不对：只能用英文字母、数字和 . _ -，3 到 60 个字符 '
                            f'(username: 3-60 ASCII letters, digits, . _ -)')
    elif row.role not in ('member', None):
        bad('username', f'{role_name}必须填写用户名 (username is required for this role)')
    for key, limit in LIMITS.items():
        if len(getattr(row, key)) > limit:
            bad(key, f'{label(key)}太长：{len(getattr(row, key))} 个字符，最多 {limit} 个 '
                     f'(too long: at most {limit} characters)')
    return row


# ---------------------------------------------------------------------------------------------- checking

class _Lookups:
    """Caches of what the database already holds (and, during the import, what it has created)."""

    def __init__(self):
        units = list(Unit.select())
        self.units = {}
        for unit in units:
            self.units.setdefault(unit.name, unit)
        for unit in units:
            self.units.setdefault(unit.code.upper(), unit)
            self.units[unit.code] = unit
        self.branches, self.teams, self.users = {}, {}, {}
        self.new_members = set()      # created by this import: later rows completing them are no update

    def unit(self, text):
        return self.units.get(text) or self.units.get(text.upper())

    def branch(self, unit, name):
        key = (unit.id, name)
        if key not in self.branches:
            self.branches[key] = Branch.get_or_none(Branch.unit == unit, Branch.name == name)
        return self.branches[key]

    def team(self, branch, name):
        if branch is None:
            return None
        key = (branch.id, name)
        if key not in self.teams:
            self.teams[key] = Team.get_or_none(Team.branch == branch, Team.name == name)
        return self.teams[key]

    def load_users(self, usernames):
        usernames = sorted(set(usernames) - set(self.users))
        for start in range(0, len(usernames), 500):
            chunk = usernames[start:start + 500]
            found = {u.username: u for u in User.select().where(User.username.in_(chunk))}
            for username in chunk:
                self.users[username] = found.get(username)

    def user(self, username):
        if username not in self.users:
            self.load_users([username])
        return self.users[username]


def _find_member(team, row):
    """The member a row stands for: same 工号 in the team; or, failing that, same name (with no 工号
    recorded when the row gives one)."""
    if team is None:
        return None
    if row.employee_no:
        member = Member.get_or_none(Member.team == team, Member.employee_no == row.employee_no)
        if member is not None:
            return member
        return (Member.select().where(Member.team == team, Member.name == row.name, Member.employee_no.is_null())
                .order_by(Member.id).first())
    return Member.select().where(Member.team == team, Member.name == row.name).order_by(Member.id).first()


def _member_conflict(member, row, user):
    """Why the row cannot be this existing member, as (column key, message), or None."""
    if member.name != row.name:
        return ('name', f'班组「{row.team}」里工号 {row.employee_no} 已属于「{member.name}」，不是「{row.name}」 '
                        f'(employee number already belongs to another member of this team)')
    if row.username and member.user_id is not None and (user is None or member.user_id != user.id):
        linked = User.get_by_id(member.user_id).username
        return ('username', f'班组「{row.team}」的职工「{row.name}」已关联账号「{linked}」，不是「{row.username}」 '
                            f'(this member is already linked to another account)')
    return None


def _check_against_file_and_database(rows, errors, lookups):
    def bad(row, key, message):
        errors.append(RowError(row.number, label(key), message))
        row.bad = True

    for row in rows:
        if row.bad:
            continue
        row.unit_obj = lookups.unit(row.unit)
        if row.unit_obj is None and row.unit_is_default:
            row.bad = True                 # reported once for the whole file
        elif row.unit_obj is None:
            bad(row, 'unit', f'单位「{row.unit}」不存在，请先建立该单位 (unknown unit)')

    # The same username must mean the same person; the same member must have one name and one account.
    by_username, by_member = {}, {}
    for row in rows:
        if row.bad:
            continue
        if row.username:
            first = by_username.setdefault(row.username, row)
            if first.name != row.name:
                bad(row, 'name', f'用户名「{row.username}」在第 {first.number} 行是「{first.name}」，这里是「{row.name}」 '
                                 f'(same username with a different name)')
            elif first.employee_no and row.employee_no and first.employee_no != row.employee_no:
                bad(row, 'employee_no', f'用户名「{row.username}」在第 {first.number} 行的工号是 {first.employee_no}，'
                                        f'这里是 {row.employee_no} (same username with a different employee number)')
        if row.level == 'team' and not row.bad:
            first = by_member.setdefault(row.member_key(), row)
            if first.name != row.name:
                bad(row, 'name', f'班组「{row.team}」的工号 {row.employee_no} 在第 {first.number} 行是「{first.name}」，'
                                 f'这里是「{row.name}」 (same employee number in one team with a different name)')
            elif first.username and row.username and first.username != row.username:
                bad(row, 'username', f'同一职工在第 {first.number} 行的用户名是「{first.username}」，这里是「{row.username}」 '
                                     f'(the same member has another username on row {first.number})')

    # What the database already holds.
    lookups.load_users(row.username for row in rows if row.username and not row.bad)
    for row in rows:
        if row.bad:
            continue
        user = lookups.user(row.username) if row.username else None
        if user is not None and user.is_system:
            bad(row, 'username', f'「{row.username}」是系统保留账号 (reserved system account)')
            continue
        if user is not None and user.display_name != row.name:
            bad(row, 'username', f'用户名「{row.username}」已被「{user.display_name}」使用，不是「{row.name}」；'
                                 f'请换一个用户名或改正姓名 (username already belongs to someone else)')
            continue
        if row.level == 'team':
            team = lookups.team(lookups.branch(row.unit_obj, row.branch), row.team)
            member = _find_member(team, row)
            conflict = member and _member_conflict(member, row, user)
            if conflict:
                bad(row, *conflict)


def _actor_roles(actor, units, errors):
    """The role the actor imports each unit in: 'system' for the system account, 'union_staff' for the
    unit's own union staff; anyone else may not import."""
    roles = {}
    for unit in units:
        if actor.is_system:
            roles[unit.id] = 'system'
        elif RoleAssignment.select().where(RoleAssignment.user == actor, RoleAssignment.role == 'union_staff',
                                           RoleAssignment.unit == unit.id).exists():
            roles[unit.id] = 'union_staff'
        else:
            security_log.warning('refused: %s may not import the organisation of unit %s', actor.username, unit.id)
            errors.append(RowError(None, None, f'「{actor.display_name}」不是「{unit.name}」的处工会人员，无权导入 '
                                               f'(not permitted: only the unit\'s union staff may import)'))
    return roles


# ---------------------------------------------------------------------------------------------- importing

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

    def summary(self):
        updated = f', {self.members_updated} members updated' if self.members_updated else ''
        return (f'imported {self.branches} branches, {self.teams} teams, {self.members} members, '
                f'{self.users} users, {self.roles} roles{updated} ({self.unchanged_rows} unchanged rows)')


def _import_row(row, lookups, counts):
    before = dataclasses.astuple(counts)
    unit = row.unit_obj
    branch = team = user = None
    if row.branch:
        branch = lookups.branch(unit, row.branch)
        if branch is None:
            branch = lookups.branches[(unit.id, row.branch)] = Branch.create(unit=unit, name=row.branch)
            counts.branches += 1
    if row.team:
        team = lookups.team(branch, row.team)
        if team is None:
            team = lookups.teams[(branch.id, row.team)] = Team.create(branch=branch, name=row.team)
            counts.teams += 1
    if row.username:
        user = lookups.user(row.username)
        if user is None:
            user = lookups.users[row.username] = get_or_create_user(row.username, row.name, password_hash=None)
            counts.users += 1
    if row.level == 'team':
        member = _find_member(team, row)
        if member is None:
            member = add_member(team, row.name, employee_no=row.employee_no or None, user=user)
            lookups.new_members.add(member.id)
            counts.members += 1
        else:
            conflict = _member_conflict(member, row, user)
            if conflict:     # rows of this same file disagree in a way the checks could not foresee
                raise ImportFailed([RowError(row.number, label(conflict[0]), conflict[1])])
            changes = {}
            if row.employee_no and member.employee_no is None:
                changes['employee_no'] = row.employee_no
            if user is not None and member.user_id is None:
                changes['user'] = user.id
            if changes:
                Member.update(**changes).where(Member.id == member.id).execute()
                if member.id not in lookups.new_members:
                    counts.members_updated += 1
    if row.role != 'member':
        place = {'team': team, 'branch': branch, 'unit': unit}[row.level]
        columns = scope_columns(**{row.level: place})
        held = RoleAssignment.select().where(
            RoleAssignment.user == user, RoleAssignment.role == row.role, RoleAssignment.unit == columns['unit'],
            RoleAssignment.branch == columns['branch'], RoleAssignment.team == columns['team']).exists()
        if not held:
            assign_role(user, row.role, **{row.level: place})
            counts.roles += 1
    counts.rows += 1
    if dataclasses.astuple(counts)[:-2] == before[:-2]:
        counts.unchanged_rows += 1


def _progress(rows, enabled):
    if not enabled:
        return contextlib.nullcontext(rows)
    return click.progressbar(rows, label='importing', file=sys.stderr)


def import_bytes(data, filename, default_unit=None, actor=None, progress=False):
    """Import the file's content (the web upload path); see `import_file`."""
    if len(data) > MAX_BYTES:
        raise _file_error(f'文件太大：超过 {MAX_BYTES // (1024 * 1024)} MB (file too large)')
    rows, errors = read_rows(data, filename, default_unit=default_unit)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with database.atomic():
            lookups = _Lookups()
            if default_unit and lookups.unit(default_unit) is None:
                errors.append(RowError(None, None, f'默认单位「{default_unit}」不存在 (unknown default unit)'))
            _check_against_file_and_database(rows, errors, lookups)
            units = {row.unit_obj.id: row.unit_obj for row in rows if row.unit_obj is not None}
            if actor is None:
                actor = system_user()
            roles = _actor_roles(actor, units.values(), errors)
            if errors:
                raise ImportFailed(errors)     # leaving the block rolls back (the system account, if new)

            per_unit = {unit_id: Counts() for unit_id in units}
            with _progress(rows, progress) as bar:
                for row in bar:
                    _import_row(row, lookups, per_unit[row.unit_obj.id])
            for unit_id, counts in per_unit.items():
                # the file name goes in the erasable free text, not in the chained payload
                payload = {**dataclasses.asdict(counts), 'sha256': sha256}
                audit.append('unit', unit_id, 'import_organisation', None, None, actor, roles[unit_id],
                             reason=f'导入文件 {os.path.basename(filename)} (imported file)', payload=payload)
    except DatabaseError as err:
        raise _file_error(f'数据库拒绝了导入，未导入任何数据：{err} (the database refused the import)') from None
    total = Counts()
    for counts in per_unit.values():
        total.add(counts)
    return total.summary()


def import_file(path, default_unit=None, actor=None, progress=False):
    """Import an .xlsx/.csv file, all rows or none. `default_unit` (a unit code or name) applies to rows
    whose 单位 cell is empty or to files without that column; `actor` (default: the system account) must
    be union staff of every unit in the file. Returns a one-line summary; raises ImportFailed."""
    path = os.fspath(path)
    _extension(path)
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise _file_error(f'文件太大：超过 {MAX_BYTES // (1024 * 1024)} MB (file too large)')
        with open(path, 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        raise _file_error(f'找不到文件「{path}」 (file not found)') from None
    except IsADirectoryError:
        raise _file_error(f'「{path}」是目录，不是文件 (not a file)') from None
    except OSError as err:
        raise _file_error(f'无法读取文件「{path}」：{err.strerror or err} (cannot read the file)') from None
    return import_bytes(data, path, default_unit=default_unit, actor=actor, progress=progress)
