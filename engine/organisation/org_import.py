"""Importing the organisation (branches, teams, members, users, roles) from an .xlsx or .csv file.

All rows or none: every row is checked first and every problem is reported with its row number (as Excel
shows it: the header is row 1), its column and a message in Chinese with English in parentheses; only a
file without a single problem is imported, in one short database transaction, with one audit record per unit.
What an import may cost is bounded before the file is read in full (engine/import_limits.py,
engine/spreadsheet.py); the file is parsed and checked without holding the database's write lock.

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

Names (分会, 班组, 姓名) must be text: a number, a TRUE/FALSE or a date there is an error (columns shifted?), and
so are control characters and bidi overrides (engine/names.py). 工号 and 用户名 may be text or a whole number of
at most 15 digits; a number Excel has already rounded (1.5E+20) is an error.

A person with several roles takes one row per role with the same username. 职工 and 班组长 rows also add the
person to the team's member list (班组长 are workers of their team too), skipping anyone already there
(same team and 工号, or same team and name when no 工号 is given). Importing the same file again changes
nothing.
"""
import contextlib
import dataclasses
import datetime
import hashlib
import logging
import os
import re
import sys
import unicodedata

import click
from peewee import DatabaseError

from models import Branch, Member, RoleAssignment, Team, Unit, User, database

from engine.chain import audit
from engine import names
from engine.organisation import org_plan
from engine.organisation import spreadsheet
from engine.errors import BadInput
from engine.organisation.import_limits import HEADER_ROWS, ImportLimits
from engine.organisation.org import system_user
from engine.organisation.org_plan import Counts  # noqa: F401  (part of this module's interface)

security_log = logging.getLogger('chuangzheng.security')

EXTENSIONS = ('.xlsx', '.xlsm', '.csv')
MAX_REPORT_LINES = 200

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
NAME_KEYS = ('branch', 'team', 'name')          # stored as names: text only
CODE_KEYS = ('employee_no', 'username')         # text or a whole number

ROLE_LABELS = {'member': '职工', 'team_leader': '班组长', 'branch_chair': '分会主席',
               'party_secretary': '支部书记', 'union_staff': '处工会'}
ROLE_TEXT = {**{label: code for code, label in ROLE_LABELS.items()}, **{code: code for code in ROLE_LABELS}}
LEVEL_OF_ROLE = {'member': 'team', 'team_leader': 'team', 'branch_chair': 'branch',
                 'party_secretary': 'branch', 'union_staff': 'unit'}

USERNAME_RE = re.compile(r'[A-Za-z0-9._-]{3,60}')
NAME_MAX = min(Member.name.max_length, User.display_name.max_length)
LENGTHS = {'branch': Branch.name.max_length, 'team': Team.name.max_length, 'name': NAME_MAX,
           'employee_no': Member.employee_no.max_length}
EXACT_DIGITS = 15                              # Excel keeps 15 significant digits of a number
NUMBER_RE = re.compile(r'[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?')
SCIENTIFIC_RE = re.compile(r'[+-]?\d+([.,]\d+)?[eE][+-]\d+')     # as Excel writes a long number into a CSV
BOOLEAN_TEXTS = ('true', 'false')

_CJK = '\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff'
_SPACE_BETWEEN_CJK = re.compile(f'(?<=[{_CJK}])\\s+(?=[{_CJK}])')


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

    @property
    def file_error(self):
        """The message when the only problem is one with the whole file, else None."""
        if len(self.errors) == 1 and self.errors[0].row is None:
            return self.errors[0].message
        return None

    def report_lines(self, limit=MAX_REPORT_LINES):
        for error in self.errors[:limit]:
            yield str(error)
        if len(self.errors) > limit:
            rest = len(self.errors) - limit
            yield f'…另有 {rest} 处错误未列出 ({rest} more not shown)'


def _column_order(column):
    order = [chinese for chinese, _, _ in COLUMNS.values()]
    return order.index(column) if column in order else -1


def _file_error(message, row=None):
    return ImportFailed([RowError(row, None, message)])


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
    text = str(value).translate(spreadsheet.INVISIBLE)
    text = re.sub(r'\s+', ' ', text.replace('\u3000', ' ').replace('\xa0', ' ')).strip()
    return _SPACE_BETWEEN_CJK.sub('', text)


def _number_text(value):
    if isinstance(value, int) or (value.is_integer() and abs(value) < 10 ** EXACT_DIGITS):
        return str(int(value))
    return f'{value:.{EXACT_DIGITS}G}'


def _cell_text(key, value):
    """(text, problem or None) of a cell in column `key`: names must be text; 工号 and 用户名 text or a whole
    number Excel holds exactly; a TRUE/FALSE or a date is never what these columns mean."""
    what = label(key)
    if isinstance(value, bool):
        shown = 'TRUE' if value else 'FALSE'
        return shown, f'{what}是逻辑值 {shown}，应为文字 (a TRUE/FALSE cell where text is expected)'
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        shown = _clean(value)
        return shown, f'{what}是日期或时间「{shown}」，应为文字 (a date or time where text is expected)'
    if isinstance(value, (int, float)):
        shown = _number_text(value)
        if key in NAME_KEYS:
            return shown, f'{what}是数字「{shown}」，应为文字；请检查各列是否错位 (a number where a name is expected)'
        exact = value == value and abs(value) < 10 ** EXACT_DIGITS and value >= 0 and float(value).is_integer()
        if key in CODE_KEYS and not exact:
            return shown, (f'{what}「{shown}」不是有效的编号：应为文字或不超过 {EXACT_DIGITS} 位的整数；'
                           f'超过 {EXACT_DIGITS} 位的数字 Excel 已改动，请把该列设为文本格式后重新填写 '
                           f'(not a valid number: use text, or a whole number of at most {EXACT_DIGITS} digits)')
        return shown, None
    text = _clean(value)
    if key in NAME_KEYS and NUMBER_RE.fullmatch(text):
        return text, f'{what}「{text}」是一个数字，应为文字；请检查各列是否错位 (a number where a name is expected)'
    if key in CODE_KEYS and SCIENTIFIC_RE.fullmatch(text):
        return text, (f'{what}「{text}」是科学计数法的数字，原来的数字已经丢失；请把该列设为文本格式后重新填写 '
                      f'(a number in scientific notation: the original digits are lost)')
    if key == 'employee_no' and text.lower() in BOOLEAN_TEXTS:
        return text, f'{what}是逻辑值「{text}」，应为文字 (a TRUE/FALSE value where text is expected)'
    return text, None


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


def _find_header(rows):
    """(index of the header row in `rows`, {column key: cell index}) — the first of the top rows that
    names at least two known columns."""
    for index, (_, cells) in enumerate(rows[:HEADER_ROWS]):
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


def read_rows(data, filename, default_unit=None, limits=None):
    """Parse the file into Rows (cells checked on their own, no database); returns (rows, errors)."""
    limits = limits or ImportLimits.from_environment()
    extension = _extension(filename)
    if not data.strip():
        raise _file_error('文件是空的 (the file is empty)')
    try:
        raw = spreadsheet.read_table(data, extension, limits)
    except spreadsheet.FileProblem as problem:
        raise _file_error(problem.message, problem.row) from None
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
    if len(body) > limits.rows:
        raise _file_error(spreadsheet.too_many_rows(limits).message)

    rows = [_check_cells(number, {key: cells[pos] if pos < len(cells) else None for key, pos in columns.items()},
                         default_unit, errors) for number, cells in body]
    return rows, errors


def _check_cells(number, cells, default_unit, errors):
    flagged = set()

    def bad(key, message):
        errors.append(RowError(number, label(key), message))
        flagged.add(key)
        row.bad = True

    values, problems = {}, {}
    for key, cell in cells.items():
        values[key], problems[key] = _cell_text(key, cell)
    row = Row(number, unit=values.get('unit') or (default_unit or ''), unit_is_default=not values.get('unit'),
              branch=values.get('branch', ''),
              team=values.get('team', ''), name=values.get('name', ''),
              employee_no=unicodedata.normalize('NFKC', values.get('employee_no', '')),
              username=unicodedata.normalize('NFKC', values.get('username', '')))
    for key, problem in problems.items():
        if problem:
            bad(key, problem)
    for key in NAME_KEYS + ('employee_no',):
        problem = key not in flagged and names.problem(getattr(row, key))
        if problem:
            bad(key, f'{label(key)}{problem}')
    if not row.unit:
        bad('unit', '缺少单位 (unit is missing)')
    if not row.name and 'name' not in flagged:
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
        if row.team and 'team' not in flagged:
            bad('team', f'{role_name}是分会一级的角色，班组应留空；如果此人也是班组长或职工，请另起一行 '
                        f'(branch-level role: leave team empty, use another row for a team role)')
    else:
        for key in ('branch', 'team'):
            if getattr(row, key) and key not in flagged:
                bad(key, f'{role_name}是单位一级的角色，{label(key)}应留空 '
                         f'(unit-level role: leave {COLUMNS[key][1]} empty)')
    if row.username:
        if not USERNAME_RE.fullmatch(row.username) and 'username' not in flagged:
            bad('username', f'用户名「{row.username}」格式不对：只能用英文字母、数字和 . _ -，3 到 60 个字符 '
                            f'(username: 3-60 ASCII letters, digits, . _ -)')
    elif row.role not in ('member', None):
        bad('username', f'{role_name}必须填写用户名 (username is required for this role)')
    for key, limit in LENGTHS.items():
        if len(getattr(row, key)) > limit and key not in flagged:
            bad(key, f'{label(key)}太长：{len(getattr(row, key))} 个字符，最多 {limit} 个 '
                     f'(too long: at most {limit} characters)')
    return row


# ---------------------------------------------------------------------------------------------- checking

class _Units:
    """Every unit, by name and by code (codes case-insensitively)."""

    def __init__(self):
        units = list(Unit.select())
        self.units = {}
        for unit in units:
            self.units.setdefault(unit.name, unit)
        for unit in units:
            self.units.setdefault(unit.code.upper(), unit)
            self.units[unit.code] = unit

    def get(self, text):
        return self.units.get(text) or self.units.get(text.upper())


def _check_against_file_and_database(rows, errors, default_unit, progress=False):
    """Every problem of rows that are fine on their own: unknown units, rows of the file that disagree, rows
    that disagree with the database. Returns the Snapshot the import can be planned on."""
    def bad(row, key, message):
        errors.append(RowError(row.number, label(key), message))
        row.bad = True

    units = _Units()
    if default_unit and units.get(default_unit) is None:
        errors.append(RowError(None, None, f'默认单位「{default_unit}」不存在 (unknown default unit)'))
    for row in rows:
        if row.bad:
            continue
        row.unit_obj = units.get(row.unit)
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
    good = [row for row in rows if not row.bad]
    snapshot = org_plan.Snapshot(good)
    with _progress(good, progress) as bar:
        for row in bar:
            user = snapshot.user_of(row)
            if user is not None and user.is_system:
                bad(row, 'username', f'「{row.username}」是系统保留账号 (reserved system account)')
            elif user is not None and user.display_name != row.name:
                bad(row, 'username', f'用户名「{row.username}」已被「{user.display_name}」使用，不是「{row.name}」；'
                                     f'请换一个用户名或改正姓名 (username already belongs to someone else)')
            elif row.level == 'team':
                member = snapshot.find_member(((row.unit_obj.id, row.branch), row.team), row)
                conflict = member and org_plan.member_conflict(snapshot, member, row, user)
                if conflict:
                    bad(row, *conflict)
    return snapshot


def _actor_roles(actor, units, errors):
    """The role the actor imports each unit in: 'system' for the system account (the default), 'union_staff'
    for the unit's own union staff; anyone else may not import."""
    roles = {}
    for unit in units:
        if actor is None or actor.is_system:
            roles[unit.id] = 'system'
        elif RoleAssignment.select().where(RoleAssignment.user == actor, RoleAssignment.role == 'union_staff',
                                           RoleAssignment.unit == unit.id).exists():
            roles[unit.id] = 'union_staff'
        else:
            security_log.warning('refused: %s may not import the organisation of unit %s', actor.username, unit.id)
            errors.append(RowError(None, None, f'「{actor.display_name}」不是「{unit.name}」的处工会人员，无权导入 '
                                               f'(not permitted: only the unit\'s union staff may import)'))
    return roles


def _check(rows, errors, default_unit, actor, progress=False):
    """(plan, {unit id: role}) for rows that can all be imported as things stand; raises ImportFailed with
    `errors` and every further problem found."""
    snapshot = _check_against_file_and_database(rows, errors, default_unit, progress)
    units = {row.unit_obj.id: row.unit_obj for row in rows if row.unit_obj is not None}
    roles = _actor_roles(actor, units.values(), errors)
    if errors:
        raise ImportFailed(errors)
    result = org_plan.plan(rows, snapshot, lambda row, key, message: errors.append(
        RowError(row.number, label(key), message)))
    if errors:                             # rows of this same file disagree in a way the checks could not foresee
        raise ImportFailed(errors)
    return result, roles


# ---------------------------------------------------------------------------------------------- importing

def _progress(rows, enabled):
    if not enabled:
        return contextlib.nullcontext(rows)
    return click.progressbar(rows, label='importing', file=sys.stderr)


def import_bytes(data, filename, default_unit=None, actor=None, progress=False, limits=None):
    """Import the file's content (the web upload path); see `import_file`."""
    rows, errors = read_rows(data, filename, default_unit=default_unit, limits=limits)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        # Checked first outside any transaction, so no write lock is held while a long file is checked and
        # other writers carry on; then once more inside the short write transaction, in case the data changed.
        _check(rows, errors, default_unit, actor, progress)
        with database.atomic():
            result, roles = _check(rows, [], default_unit, actor)
            actor = actor or system_user()
            org_plan.write(result)
            for unit_id, counts in result.counts.items():
                # the file name goes in the erasable free text, not in the chained payload
                payload = {**dataclasses.asdict(counts), 'sha256': sha256}
                audit.append('unit', unit_id, 'import_organisation', None, None, actor, roles[unit_id],
                             reason=f'导入文件 {os.path.basename(filename)} (imported file)', payload=payload)
    except DatabaseError as err:
        raise _file_error(f'数据库拒绝了导入，未导入任何数据：{err} (the database refused the import)') from None
    total = Counts()
    for counts in result.counts.values():
        total.add(counts)
    return total.summary()


def import_file(path, default_unit=None, actor=None, progress=False, limits=None):
    """Import an .xlsx/.csv file, all rows or none. `default_unit` (a unit code or name) applies to rows
    whose 单位 cell is empty or to files without that column; `actor` (default: the system account) must
    be union staff of every unit in the file. Returns a one-line summary; raises ImportFailed."""
    limits = limits or ImportLimits.from_environment()
    path = os.fspath(path)
    _extension(path)
    try:
        size = os.path.getsize(path)
        if size > limits.file_bytes:
            raise _file_error(f'文件太大：超过 {limits.file_bytes // (1024 * 1024)} MB (file too large)')
        with open(path, 'rb') as handle:
            data = handle.read(limits.file_bytes + 1)
    except FileNotFoundError:
        raise _file_error(f'找不到文件「{path}」 (file not found)') from None
    except IsADirectoryError:
        raise _file_error(f'「{path}」是目录，不是文件 (not a file)') from None
    except OSError as err:
        raise _file_error(f'无法读取文件「{path}」：{err.strerror or err} (cannot read the file)') from None
    return import_bytes(data, path, default_unit=default_unit, actor=actor, progress=progress, limits=limits)
