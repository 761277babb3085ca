"""Importing the organisation from .xlsx/.csv: all rows or none, every problem reported with row and column,
idempotent, audited; and the `import-org` command."""
import csv
import datetime
import hashlib

import openpyxl
import pytest
from peewee import IntegrityError

from engine.chain import audit
from engine.organisation import org
from engine.organisation import org_import
from engine.organisation import org_plan
from engine.organisation.org_import import ImportFailed, import_file
from models import AuditRecord, Branch, Member, RoleAssignment, Team, Unit, User, database

HEADER = ['单位', '分会', '班组', '姓名', '工号', '角色', '用户名']
GOOD = [
    ['货运处', '一分会', '', '王书记', 'H001', '支部书记', 'wang.sj'],        # row 2
    ['货运处', '一分会', '', '李主席', 'H002', '分会主席', 'li.zx'],          # row 3
    ['货运处', '一分会', '装卸二班', '李主席', 'H002', '班组长', 'li.zx'],    # row 4: the chair leads a team
    ['货运处', '一分会', '装卸一班', '张班长', 'H003', '班组长', 'zhang.bz'],  # row 5
    ['货运处', '一分会', '装卸一班', '赵一', 'H101', '职工', ''],             # row 6
    ['货运处', '一分会', '装卸一班', '钱二', 'H102', '职工', 'qian.er'],      # row 7: a member with an account
    ['货运处', '一分会', '装卸二班', '孙三', 'H103', '职工', ''],             # row 8
    ['货运处', '二分会', '调度班', '周四', 'H104', '职工', ''],               # row 9
    ['HY', '', '', '周干事', 'H900', '处工会', 'zhou.gs'],                    # row 10: unit given by code
]
GOOD_SUMMARY = 'imported 2 branches, 3 teams, 6 members, 5 users, 5 roles (0 unchanged rows)'


def write_csv(path, rows, header=HEADER, encoding='utf-8', delimiter=','):
    with open(path, 'w', encoding=encoding, newline='') as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows, header=HEADER, title=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = '组织'
    if title:
        sheet.append([title])
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.create_sheet('说明').append(['这一页不导入'])
    workbook.save(path)
    return path


@pytest.fixture
def unit(db):
    return Unit.create(code='HY', name='货运处')


def counts():
    return {model.__name__: model.select().count()
            for model in (Unit, Branch, Team, Member, User, RoleAssignment, AuditRecord)}


def failure(path, **kwargs):
    with pytest.raises(ImportFailed) as info:
        import_file(path, **kwargs)
    return info.value


def where(err):
    return [(e.row, e.column) for e in err.errors]


def check_good_import(unit):
    b1, b2 = Branch.get(name='一分会'), Branch.get(name='二分会')
    assert b1.unit_id == b2.unit_id == unit.id
    assert {t.name: t.branch_id for t in Team.select()} == {'装卸一班': b1.id, '装卸二班': b1.id, '调度班': b2.id}
    members = {m.name: m for m in Member.select()}
    assert sorted(members) == sorted(['李主席', '张班长', '赵一', '钱二', '孙三', '周四'])
    assert members['赵一'].team.name == '装卸一班' and members['赵一'].employee_no == 'H101'
    assert members['赵一'].user is None
    assert members['钱二'].user.username == 'qian.er'
    assert members['李主席'].team.name == '装卸二班' and members['李主席'].user.username == 'li.zx'
    users = {u.username: u for u in User.select().where(~User.is_system)}
    assert sorted(users) == ['li.zx', 'qian.er', 'wang.sj', 'zhang.bz', 'zhou.gs']
    assert all(u.password_hash is None and u.active for u in users.values())
    assert users['wang.sj'].display_name == '王书记'
    roles = {(r.user.username, r.role, r.unit_id, r.branch_id, r.team_id)
             for r in RoleAssignment.select().where(RoleAssignment.role != 'system')}
    t1, t2 = Team.get(name='装卸一班'), Team.get(name='装卸二班')
    assert roles == {('wang.sj', 'party_secretary', unit.id, b1.id, None),
                     ('li.zx', 'branch_chair', unit.id, b1.id, None),
                     ('li.zx', 'team_leader', unit.id, b1.id, t2.id),
                     ('zhang.bz', 'team_leader', unit.id, b1.id, t1.id),
                     ('zhou.gs', 'union_staff', unit.id, None, None)}


def check_audit(unit, path, expected_counts, role='system', actor=None):
    records = list(audit.history('unit', unit.id))
    assert len(records) == 1
    record = records[0]
    assert record.event == 'import_organisation' and record.from_state is None and record.to_state is None
    assert record.actor_role == role
    assert record.actor_id == (actor or User.get(username='system')).id
    with open(path, 'rb') as handle:
        assert record.payload['sha256'] == hashlib.sha256(handle.read()).hexdigest()
    assert {k: record.payload[k] for k in expected_counts} == expected_counts
    result = audit.verify()
    assert result.ok, result.problems


GOOD_COUNTS = {'branches': 2, 'teams': 3, 'members': 6, 'users': 5, 'roles': 5, 'rows': 9, 'unchanged_rows': 0}


# ------------------------------------------------------------------------------------------- good files

def test_good_csv_imports_everything_with_one_audit_record(unit, tmp_path):
    path = write_csv(tmp_path / 'org.csv', GOOD)
    assert import_file(path) == GOOD_SUMMARY
    check_good_import(unit)
    check_audit(unit, path, GOOD_COUNTS)


def test_good_xlsx_imports_everything_with_one_audit_record(unit, tmp_path):
    path = write_xlsx(tmp_path / 'org.xlsx', GOOD)
    assert import_file(path) == GOOD_SUMMARY
    check_good_import(unit)
    check_audit(unit, path, GOOD_COUNTS)


def test_gbk_csv_as_chinese_excel_saves_it(unit, tmp_path):
    path = write_csv(tmp_path / 'org.csv', GOOD, encoding='gbk')
    assert import_file(path) == GOOD_SUMMARY
    check_good_import(unit)


def test_utf8_bom_csv_with_english_headers(unit, tmp_path):
    header = ['Unit', 'Branch', 'Team', 'Name', 'Employee No', 'Role', 'Username']
    rows = [[r[0], r[1], r[2], r[3], r[4], {'职工': 'member', '班组长': 'team_leader'}.get(r[5], r[5]), r[6]]
            for r in GOOD]
    path = write_csv(tmp_path / 'org.csv', rows, header=header, encoding='utf-8-sig')
    assert import_file(path) == GOOD_SUMMARY
    check_good_import(unit)


def test_utf16_tab_separated_unicode_text(unit, tmp_path):
    path = write_csv(tmp_path / 'org.csv', GOOD, encoding='utf-16', delimiter='\t')
    assert import_file(path) == GOOD_SUMMARY
    check_good_import(unit)


def test_xlsx_with_title_row_default_unit_numbers_and_padded_names(unit, tmp_path):
    header = ['序号', '分会', '班组', '姓名*', '工号', '角色（必填）', '用户名', '备注']
    rows = [[1, '一分会', '装卸一班', '张　三', 1001, '职工', None, '老职工'],
            [2, ' 一分会 ', '装卸一班', '李四', 1002.0, None, None, None],       # empty role: a member
            [3, '一分会', '装卸一班', '王五', 1003, '班组长', 'ｗａｎｇ5', None]]   # full-width username
    path = write_xlsx(tmp_path / 'org.xlsx', rows, header=header, title='货运处创争组织名单')
    assert import_file(path, default_unit='HY') == \
        'imported 1 branches, 1 teams, 3 members, 1 users, 1 roles (0 unchanged rows)'
    assert sorted(Member.select().tuples().select(Member.name, Member.employee_no)) == \
        [('张三', '1001'), ('李四', '1002'), ('王五', '1003')]
    assert User.get(username='wang5').display_name == '王五'
    assert Branch.select().count() == 1


def test_existing_organisation_is_reused(world, tmp_path):
    rows = [['货运处', '一分会', '装卸一班', '新职工', 'N1', '职工', ''],
            ['货运处', '一分会', '装卸一班', '张班长', 'L1', '班组长', 'leader1'],       # an existing user
            ['客运处', '客运一分会', '售票班', '售票员', 'K1', '职工', '']]
    before = counts()
    path = write_csv(tmp_path / 'org.csv', rows)
    assert import_file(path) == 'imported 0 branches, 0 teams, 3 members, 0 users, 0 roles (0 unchanged rows)'
    after = counts()
    assert after['Branch'] == before['Branch'] and after['Team'] == before['Team']
    assert after['User'] == before['User'] and after['RoleAssignment'] == before['RoleAssignment']
    assert Member.get(name='张班长').user_id == world.leader1.id
    # one audit record per unit touched
    assert [r.object_id for r in AuditRecord.select().where(AuditRecord.event == 'import_organisation')
            .order_by(AuditRecord.object_id)] == sorted([world.unit.id, world.other_unit.id])
    assert audit.verify().ok


def test_existing_member_without_employee_no_is_completed_not_duplicated(world, tmp_path):
    org.add_member(world.t1, '赵一')
    path = write_csv(tmp_path / 'org.csv', [['货运处', '一分会', '装卸一班', '赵一', 'H101', '职工', 'zhao.yi']])
    assert import_file(path) == \
        'imported 0 branches, 0 teams, 0 members, 1 users, 0 roles, 1 members updated (0 unchanged rows)'
    member = Member.get(name='赵一')
    assert member.employee_no == 'H101' and member.user.username == 'zhao.yi'
    assert Member.select().count() == 1


def test_reimport_is_idempotent(unit, tmp_path):
    path = write_xlsx(tmp_path / 'org.xlsx', GOOD)
    assert import_file(path) == GOOD_SUMMARY
    before = counts()
    assert import_file(path) == 'imported 0 branches, 0 teams, 0 members, 0 users, 0 roles (9 unchanged rows)'
    after = counts()
    assert {k: v for k, v in after.items() if k != 'AuditRecord'} == \
        {k: v for k, v in before.items() if k != 'AuditRecord'}
    assert after['AuditRecord'] == before['AuditRecord'] + 1      # the import itself is still recorded
    check_good_import(unit)
    assert audit.verify().ok
    # the same people exported from another tool as CSV: still nothing new
    assert import_file(write_csv(tmp_path / 'org.csv', GOOD)).endswith('0 roles (9 unchanged rows)')


def test_progress_bar_on_stderr(unit, tmp_path, capsys):
    import_file(write_csv(tmp_path / 'org.csv', GOOD), progress=True)
    captured = capsys.readouterr()
    assert 'importing' in captured.err and captured.out == ''


# ------------------------------------------------------------------------------------------- actor

def test_union_staff_imports_as_union_staff(world, tmp_path):
    path = write_csv(tmp_path / 'org.csv', [['货运处', '一分会', '装卸一班', '新职工', 'N1', '职工', '']])
    import_file(path, actor=world.staff)
    record = AuditRecord.get(AuditRecord.event == 'import_organisation')
    assert (record.object_id, record.actor_id, record.actor_role) == (world.unit.id, world.staff.id, 'union_staff')
    assert audit.verify().ok


@pytest.mark.parametrize('who', ['leader1', 'chair1', 'other_staff', 'auditor'])
def test_others_may_not_import(world, tmp_path, who):
    path = write_csv(tmp_path / 'org.csv', [['货运处', '一分会', '装卸一班', '新职工', 'N1', '职工', '']])
    before = counts()
    err = failure(path, actor=getattr(world, who))
    assert where(err) == [(None, None)] and 'not permitted' in err.errors[0].message
    assert counts() == before


# ------------------------------------------------------------------------------------------- all or nothing

def test_one_bad_row_among_good_rows_imports_nothing(unit, tmp_path):
    rows = [list(r) for r in GOOD]
    rows[3][5] = '组长'                                     # row 5 as Excel numbers it
    before = counts()
    err = failure(write_csv(tmp_path / 'org.csv', rows))
    assert where(err) == [(5, '角色')]
    lines = list(err.report_lines())
    assert lines[0].startswith('第 5 行 [角色]: 未知角色「组长」') and lines[0].endswith('(unknown role)')
    assert counts() == before


def test_every_bad_row_is_reported_at_once(unit, tmp_path):
    rows = [['货运处', '一分会', '装卸一班', '', 'H1', '职工', ''],
            ['货运处', '一分会', '装卸一班', '好人', 'H2', '职工', ''],
            ['货运处', '一分会', '装卸一班', '张三', 'H3', '组长', 'zhangsan'],
            ['货运处', '一分会', '', '李四', 'H4', '班组长', ''],
            ['没有处', '一分会', '装卸一班', '王五', 'H5', '职工', '']]
    err = failure(write_xlsx(tmp_path / 'org.xlsx', rows))
    assert where(err) == [(2, '姓名'), (4, '角色'), (5, '班组'), (5, '用户名'), (6, '单位')]
    assert str(err).startswith('导入失败，未导入任何数据：5 处错误')
    assert err.bad_rows == 4
    assert Branch.select().count() == 0


def test_failure_mid_way_leaves_nothing_behind(unit, tmp_path, monkeypatch):
    real_write = org_plan.write

    def write_then_fail(plan):
        real_write(plan)              # every branch, team, user, member and role is written …
        raise IntegrityError('UNIQUE constraint failed: role_assignment')       # … then the database refuses

    monkeypatch.setattr(org_plan, 'write', write_then_fail)
    before = counts()
    err = failure(write_csv(tmp_path / 'org.csv', GOOD))
    assert where(err) == [(None, None)] and 'database refused' in err.errors[0].message
    assert counts() == before and not User.select().exists()
    assert audit.verify().ok


def test_failure_in_the_audit_write_leaves_nothing_behind(unit, tmp_path, monkeypatch):
    def broken_append(*args, **kwargs):
        raise RuntimeError('disk on fire')

    monkeypatch.setattr(org_import.audit, 'append', broken_append)
    before = counts()
    with pytest.raises(RuntimeError):
        import_file(write_csv(tmp_path / 'org.csv', GOOD))
    assert counts() == before


def test_report_is_capped_but_errors_are_complete(unit, tmp_path):
    rows = [['货运处', '一分会', '装卸一班', f'人{i}', f'H{i}', '组长', ''] for i in range(250)]
    err = failure(write_csv(tmp_path / 'org.csv', rows))
    assert len(err.errors) == 250
    lines = list(err.report_lines())
    assert len(lines) == 201 and '另有 50 处错误未列出' in lines[-1]


# ------------------------------------------------------------------------------------------- row rules

def row(**changes):
    base = dict(unit='货运处', branch='一分会', team='装卸一班', name='张三', employee_no='H1', role='职工',
                username='')
    base.update(changes)
    return [base[k] for k in ('unit', 'branch', 'team', 'name', 'employee_no', 'role', 'username')]


ROW_RULES = {
    'name missing': (row(name=''), '姓名', '缺少姓名'),
    'branch missing for a member': (row(branch=''), '分会', '必须填写分会'),
    'branch missing for a chair': (row(branch='', team='', role='分会主席', username='chair'), '分会', '必须填写分会'),
    'unit missing': (row(unit=''), '单位', '缺少单位'),
    'unknown role': (row(role='组长'), '角色', '未知角色「组长」'),
    'unknown English role': (row(role='auditor', username='aud'), '角色', '未知角色「auditor」'),
    'team for a branch chair': (row(role='分会主席', username='chair'), '班组', '班组应留空'),
    'team for a party secretary': (row(role='支部书记', username='sec'), '班组', '班组应留空'),
    'branch for union staff': (row(team='', role='处工会', username='staff'), '分会', '分会应留空'),
    'team missing for a team leader': (row(team='', role='班组长', username='leader'), '班组', '必须填写班组'),
    'team missing for a member': (row(team=''), '班组', '必须填写班组'),
    'username missing for a leader': (row(role='班组长'), '用户名', '必须填写用户名'),
    'username missing for union staff': (row(branch='', team='', role='处工会'), '用户名', '必须填写用户名'),
    'username in Chinese': (row(username='张三'), '用户名', '格式不对'),
    'username too short': (row(username='ab'), '用户名', '格式不对'),
    'username with a blank': (row(username='zhang san'), '用户名', '格式不对'),
    'username with @': (row(username='zs@example.com'), '用户名', '格式不对'),
    'username too long': (row(username='z' * 61), '用户名', '格式不对'),
    'name too long': (row(name='张' * 61), '姓名', '姓名太长'),
    'branch too long': (row(branch='分' * 101), '分会', '分会太长'),
    'team too long': (row(team='班' * 101), '班组', '班组太长'),
    'employee number too long': (row(employee_no='9' * 41), '工号', '工号太长'),
    'unknown unit': (row(unit='不存在处'), '单位', '单位「不存在处」不存在'),
    # what a spreadsheet does to numbers and names (issue 9 item 11)
    'a number as a name': (row(name='12345'), '姓名', '是一个数字'),
    'a decimal number as a team': (row(team='3.5'), '班组', '是一个数字'),
    'a number as a branch': (row(branch='7'), '分会', '是一个数字'),
    'scientific notation as 工号': (row(employee_no='1.5E+20'), '工号', '科学计数法'),
    'scientific notation as username': (row(username='1.23457E+17'), '用户名', '科学计数法'),
    'TRUE as 工号': (row(employee_no='True'), '工号', '逻辑值'),
    'BEL in a team name': (row(team='装卸\x07一班'), '班组', 'U+0007'),
    'ESC in a name': (row(name='张\x1b三'), '姓名', 'U+001B'),
    'DEL in 工号': (row(employee_no='H\x7f1'), '工号', 'U+007F'),
    'C1 control in a branch': (row(branch='一分\x9b会'), '分会', 'U+009B'),
    'RTL override in a name': (row(name='张\u202e三'), '姓名', 'U+202E'),
    'RTL isolate in a team': (row(team='装卸\u2067一班'), '班组', 'U+2067'),
}


@pytest.mark.parametrize('name', list(ROW_RULES))
def test_row_rule(unit, tmp_path, name):
    bad_row, column, fragment = ROW_RULES[name]
    rows = [row(name='好人', employee_no='OK1'), bad_row]
    err = failure(write_csv(tmp_path / 'org.csv', rows))
    assert where(err) == [(3, column)], err.errors
    assert fragment in err.errors[0].message
    assert '(' in err.errors[0].message and err.errors[0].message.endswith(')')     # English in parentheses
    assert Member.select().count() == 0


def test_typed_xlsx_cells_where_text_is_expected_are_row_errors(unit, tmp_path):
    rows = [row(name=12345),                                    # row 2: a number as a name
            row(name='李四', employee_no=True),                   # row 3: TRUE as 工号
            row(name='王五', employee_no=1.5e20),                 # row 4: 150000000000000000000 as Excel shows it
            row(name='赵六', employee_no=1002.5),                 # row 5: not a whole number
            row(name='钱七', team=7),                             # row 6: a number as a team
            row(name=datetime.datetime(2024, 5, 1)),             # row 7: a date as a name
            row(name='孙八', employee_no=-3),                     # row 8: a negative number
            row(name='周九', employee_no=1234567890123456),       # row 9: 16 digits, more than Excel keeps
            row(name='吴十', branch='一分\u202e会'),               # row 10: an RTL override in a name
            row(name='郑一', username=False, role='班组长'),       # row 11: FALSE as a username
            row(name='冯二', employee_no=1001),                   # row 12: fine: a whole number
            row(name='陈三', employee_no=1002.0, username=10086)]  # row 13: fine: whole numbers
    err = failure(write_xlsx(tmp_path / 'org.xlsx', rows))
    assert where(err) == [(2, '姓名'), (3, '工号'), (4, '工号'), (5, '工号'), (6, '班组'), (7, '姓名'), (8, '工号'),
                          (9, '工号'), (10, '分会'), (11, '用户名')], err.errors
    messages = [e.message for e in err.errors]
    assert '姓名是数字「12345」' in messages[0] and 'a number where a name is expected' in messages[0]
    assert '工号是逻辑值 TRUE' in messages[1]
    assert '工号「1.5E+20」不是有效的编号' in messages[2] and '150000000000000000000' not in messages[2]
    assert '工号「1002.5」' in messages[3]
    assert '日期' in messages[5] and 'U+202E' in messages[8]
    assert Member.select().count() == 0


def test_whole_numbers_as_employee_no_and_username_are_text(unit, tmp_path):
    path = write_xlsx(tmp_path / 'org.xlsx', [row(employee_no=1001), row(name='李四', employee_no=1002.0, username=10086)])
    assert import_file(path).startswith('imported 1 branches, 1 teams, 2 members, 1 users')
    assert sorted(Member.select().tuples().select(Member.name, Member.employee_no)) == [('张三', '1001'), ('李四', '1002')]
    assert User.get(username='10086').display_name == '李四'


def test_longest_allowed_values_pass(unit, tmp_path):
    path = write_csv(tmp_path / 'org.csv', [row(branch='分' * 100, team='班' * 100, name='张' * 60,
                                                 employee_no='9' * 40, username='z' * 60)])
    assert import_file(path).startswith('imported 1 branches, 1 teams, 1 members, 1 users')


def test_same_username_with_another_name(unit, tmp_path):
    rows = [row(role='班组长', username='zhangsan'), row(team='装卸二班', name='张四', role='班组长', username='zhangsan')]
    err = failure(write_csv(tmp_path / 'org.csv', rows))
    assert where(err) == [(3, '姓名')]
    assert '第 2 行是「张三」' in err.errors[0].message


def test_same_username_with_another_employee_no(unit, tmp_path):
    rows = [row(role='班组长', username='zhangsan'), row(employee_no='H9', role='职工', username='zhangsan')]
    err = failure(write_csv(tmp_path / 'org.csv', rows))
    assert where(err) == [(3, '工号')]


def test_same_employee_no_in_one_team_with_another_name(unit, tmp_path):
    err = failure(write_csv(tmp_path / 'org.csv', [row(), row(name='李四')]))
    assert where(err) == [(3, '姓名')]


def test_same_member_with_two_usernames(unit, tmp_path):
    err = failure(write_csv(tmp_path / 'org.csv', [row(username='zhang1'), row(role='班组长', username='zhang2')]))
    assert where(err) == [(3, '用户名')]


def test_consistent_repeated_rows_are_fine(unit, tmp_path):
    rows = [row(), row(), row(role='班组长', username='zhangsan'), row(branch='', team='', role='处工会',
                                                                       username='zhangsan')]
    assert import_file(write_csv(tmp_path / 'org.csv', rows)) == \
        'imported 1 branches, 1 teams, 1 members, 1 users, 2 roles (1 unchanged rows)'
    assert Member.get().user.username == 'zhangsan'


def test_existing_username_of_another_person_is_reported(world, tmp_path):
    err = failure(write_csv(tmp_path / 'org.csv', [row(role='班组长', username='leader1')]))
    assert where(err) == [(2, '用户名')]
    assert '「张班长」' in err.errors[0].message and 'belongs to someone else' in err.errors[0].message


def test_system_account_is_reserved(world, tmp_path):
    err = failure(write_csv(tmp_path / 'org.csv', [row(name='系统', role='班组长', username='system')]))
    assert where(err) == [(2, '用户名')] and 'reserved' in err.errors[0].message


def test_existing_employee_no_of_another_member_is_reported(world, tmp_path):
    org.add_member(world.t1, '老王', employee_no='H1')
    err = failure(write_csv(tmp_path / 'org.csv', [row()]))
    assert where(err) == [(2, '姓名')] and '已属于「老王」' in err.errors[0].message


def test_existing_member_linked_to_another_account_is_reported(world, tmp_path):
    org.add_member(world.t1, '张班长', employee_no='H1', user=world.leader1)
    other = org.get_or_create_user('zhang.other', '张班长')
    err = failure(write_csv(tmp_path / 'org.csv', [row(name='张班长', username=other.username)]))
    assert where(err) == [(2, '用户名')] and '已关联账号「leader1」' in err.errors[0].message


# ------------------------------------------------------------------------------------------- file rules

def file_error(err):
    assert where(err) == [(None, None)], err.errors
    line = list(err.report_lines())[0]
    assert line.startswith('文件: ')
    return err.errors[0].message


def test_empty_csv(unit, tmp_path):
    path = tmp_path / 'org.csv'
    path.write_bytes(b'')
    assert '文件是空的' in file_error(failure(path))


def test_blank_xlsx(unit, tmp_path):
    path = tmp_path / 'org.xlsx'
    openpyxl.Workbook().save(path)
    assert '文件是空的' in file_error(failure(path))


def test_header_only(unit, tmp_path):
    assert 'no data rows' in file_error(failure(write_csv(tmp_path / 'org.csv', [])))


def test_missing_header_columns(unit, tmp_path):
    header = ['单位', '分会', '班组', '名字', '工号', '用户名']
    message = file_error(failure(write_csv(tmp_path / 'org.csv', [['货运处', '一分会', '装卸一班', '张三', '1', '']],
                                           header=header)))
    assert '表头缺少列：姓名、角色' in message and 'missing columns: name, role' in message


def test_missing_unit_column_without_default_unit(unit, tmp_path):
    header = ['分会', '班组', '姓名', '工号', '角色', '用户名']
    path = write_csv(tmp_path / 'org.csv', [['一分会', '装卸一班', '张三', '1', '职工', '']], header=header)
    assert '--unit' in file_error(failure(path))
    assert import_file(path, default_unit='HY').startswith('imported 1 branches')


def test_unknown_default_unit(unit, tmp_path):
    path = write_csv(tmp_path / 'org.csv', [row(unit='')])
    assert '默认单位「XX」不存在' in file_error(failure(path, default_unit='XX'))


def test_duplicate_column(unit, tmp_path):
    header = HEADER + ['name']
    err = failure(write_csv(tmp_path / 'org.csv', [row() + ['张三']], header=header))
    assert where(err) == [(1, '姓名')] and 'duplicate column' in err.errors[0].message


def test_unreadable_xlsx(unit, tmp_path):
    path = tmp_path / 'org.xlsx'
    path.write_bytes(b'this is not a workbook at all')
    assert 'not a readable .xlsx' in file_error(failure(path))


def test_csv_that_is_binary(unit, tmp_path):
    path = tmp_path / 'org.csv'
    path.write_bytes(bytes(range(256)) * 4)
    file_error(failure(path))


@pytest.mark.parametrize('name', ['org.txt', 'org.xls', 'org'])
def test_unsupported_extension(unit, tmp_path, name):
    path = tmp_path / name
    path.write_text('单位,分会\n')
    assert 'unsupported file type' in file_error(failure(path))


def test_missing_file(unit, tmp_path):
    assert 'file not found' in file_error(failure(tmp_path / 'nowhere.xlsx'))


def test_directory_instead_of_file(unit, tmp_path):
    (tmp_path / 'dir.csv').mkdir()
    assert 'not a file' in file_error(failure(tmp_path / 'dir.csv'))


# ------------------------------------------------------------------------------------------- command line

@pytest.fixture
def cli(tmp_path):
    from web import create_app
    app = create_app({'DATABASE_URL': f'sqlite:///{tmp_path}/cli.db'})
    runner = app.test_cli_runner()
    result = runner.invoke(args=['init-db'])
    assert result.exit_code == 0, result.output
    Unit.create(code='HY', name='货运处')
    yield runner
    database.close()


def assert_clean_failure(result):
    assert result.exit_code != 0
    assert 'Traceback' not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_imports_a_good_file(cli, tmp_path):
    path = write_xlsx(tmp_path / 'org.xlsx', GOOD)
    result = cli.invoke(args=['import-org', str(path)])
    assert result.exit_code == 0, result.output
    assert GOOD_SUMMARY in result.stdout
    assert Member.select().count() == 6
    verify = cli.invoke(args=['verify'])
    assert verify.exit_code == 0 and 'audit chain intact' in verify.stdout


def test_cli_unit_option(cli, tmp_path):
    header = ['分会', '班组', '姓名', '工号', '角色', '用户名']
    path = write_csv(tmp_path / 'org.csv', [['一分会', '装卸一班', '张三', '1', '职工', '']], header=header)
    result = cli.invoke(args=['import-org', str(path), '--unit', 'HY'])
    assert result.exit_code == 0, result.output
    assert 'imported 1 branches, 1 teams, 1 members' in result.stdout


def test_cli_bad_file(cli, tmp_path):
    rows = [list(r) for r in GOOD]
    rows[3][5] = '组长'
    result = cli.invoke(args=['import-org', str(write_csv(tmp_path / 'org.csv', rows))])
    assert_clean_failure(result)
    assert '第 5 行 [角色]: 未知角色「组长」' in result.stderr
    assert 'nothing imported: 1 bad row(s)' in result.stderr
    assert Branch.select().count() == 0


def test_cli_missing_file(cli, tmp_path):
    result = cli.invoke(args=['import-org', str(tmp_path / 'nowhere.csv')])
    assert_clean_failure(result)
    assert '找不到文件' in result.stderr and 'file not found' in result.stderr


def test_cli_txt_file(cli, tmp_path):
    path = tmp_path / 'org.txt'
    path.write_text('单位,分会,班组,姓名,工号,角色,用户名\n', encoding='utf-8')
    result = cli.invoke(args=['import-org', str(path)])
    assert_clean_failure(result)
    assert '不支持的文件类型「.txt」' in result.stderr and 'unsupported file type' in result.stderr
