"""The demo data: 货运处 with 4 branches, 40 teams, a user for every role and a campaign in its consolidation
stage, with applications and innovation results in every state of their workflows.

Everything that has a state is laid down through the engine (engine.create / engine.fire /
engine.record_evidence) with the engine clock pinned to realistic dates between March 2025 and
20 November 2026, so the history reads like a real one and the audit chain verifies. The organisation
itself (unit, branches, teams, members, users, roles) is plain data, as an import would create it.

The history is a set of small stories (one per team, application, innovation result, plus the union's
own steps) run by a tiny scheduler in time order, so audit records are also in chronological order.
Deterministic: every random choice comes from random.Random(seed)."""
import datetime as dt
import heapq
import random
import struct
import sys
import time
import zlib
from contextlib import nullcontext

import click

import engine
from engine import clock
from engine import org
from engine import scheduler
from models import (Application, AuditRecord, Branch, Campaign, CommendationDecision, InnovationResult, Member,
                    Objection, Requirement, Team, Unit, User, database)

SEED = 20250303
PASSWORD = 'demo1234'
YEAR = 2026

START = dt.datetime(2025, 3, 3, 1, 0)        # the organisation is set up
END = dt.datetime(2026, 11, 20, 10, 0)       # "today" in the demo (UTC; 18:00 in Beijing)
CAMPAIGN_CREATED = dt.date(2025, 3, 10)
LAUNCH = dt.date(2025, 3, 18)
ADVANCE = dt.date(2026, 1, 8)


def _days(first, last):
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


# Days nobody works (statutory holidays); weekends are skipped too.
HOLIDAYS = (_days(dt.date(2025, 5, 1), dt.date(2025, 5, 5)) | _days(dt.date(2025, 10, 1), dt.date(2025, 10, 8))
            | _days(dt.date(2026, 1, 1), dt.date(2026, 1, 3)) | _days(dt.date(2026, 2, 15), dt.date(2026, 2, 23))
            | _days(dt.date(2026, 5, 1), dt.date(2026, 5, 5)) | _days(dt.date(2026, 10, 1), dt.date(2026, 10, 7)))

# --- the organisation ------------------------------------------------------------------------------

UNIT = {'code': 'HY', 'name': '货运处',
        # a chair's own team is reviewed by the party secretary; the secretary co-signs stage approvals
        'settings': {'chair_team_reviewer': 'party_secretary', 'secretary_cosigns_stages': True}}

# (branch, chair, party secretary, [(team, how its participation ends up)]).
# The first chair also leads 东场装卸二班, so that team's reviews go to the party secretary.
BRANCHES = [
    ('东货场分会', '李卫东', '刘建华', [
        ('东场装卸一班', 'con_reached'), ('东场装卸二班', 'con_reached'), ('东场装卸三班', 'con_cosign'),
        ('东场货运调度班', 'con_submitted'), ('东场货运计划班', 'con_returned'),
        ('东场安全质量班', 'con_in_progress'), ('叉车作业班', 'con_in_progress'),
        ('集装箱作业班', 'con_in_progress'), ('门吊作业班', 'withdrawn'), ('东场货运营业班', 'pop_in_progress')]),
    ('南站货运分会', '王秀梅', '孙丽娟', [
        ('南站货运计划班', 'con_reached'), ('南站货运调度班', 'con_reached'), ('南站货运营业班', 'con_submitted'),
        ('货运核算班', 'con_returned'), ('南站装卸班', 'con_in_progress'), ('运转一班', 'con_in_progress'),
        ('运转二班', 'con_in_progress'), ('运转三班', 'pop_submitted'), ('南站安全质量班', 'requested'),
        ('仓储管理班', 'none')]),
    ('货运检查车间分会', '陈志刚', '周国平', [
        ('货检一班', 'con_reached'), ('货检二班', 'con_cosign'), ('货检三班', 'con_submitted'),
        ('货检四班', 'con_in_progress'), ('超偏载检测班', 'con_in_progress'), ('危险货物检查班', 'con_in_progress'),
        ('篷布管理班', 'con_in_progress'), ('货车加固班', 'pop_returned'), ('货检技术班', 'enrol_returned'),
        ('安全监控班', 'none')]),
    ('装卸机械车间分会', '赵永红', '吴海燕', [
        ('起重机司机班', 'con_reached'), ('机械检修一班', 'con_returned'), ('机械检修二班', 'con_in_progress'),
        ('电气维修班', 'con_in_progress'), ('装载机班', 'con_in_progress'), ('轨道吊班', 'con_in_progress'),
        ('机具材料班', 'con_in_progress'), ('设备管理班', 'pop_reached'), ('机械安全班', 'rejected'),
        ('动力班', 'none')]),
]
CHAIR_LED_TEAM = '东场装卸二班'
ENROLMENT_RETURNED_FIRST = {'东场货运计划班', '货检三班', '装载机班'}   # returned once, then approved
ENROLMENT_BY_UNION = '运转二班'                                         # the chair was away: union override
DECLINED_COSIGN = '货检四班'                                            # the secretary declined once

STAFF = [('staff1', '郑晓云'), ('staff2', '马俊峰')]
AUDITOR = ('auditor', '何文静')

SURNAMES = ('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任'
            '沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万严覃武戴莫孔汤')
GIVEN = ('建国 建军 国强 志强 海涛 红梅 丽华 伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 旭 宁 龙 '
         '林 洋 晨 亮 峰 晓东 卫国 立新 永明 春生 德胜 长江 振华 玉兰 秀英 桂英 淑芬 艳 静 敏 霞 娟 燕 婷 雪 晓燕 文博 '
         '子豪 思远 宏伟 建华 国庆 新民 树林 金山 保国 明亮 学军 俊杰 家豪 天宇 嘉诚 一鸣 海波 雪峰 晓峰 春雷 大伟 '
         '小军 永刚 志勇 文军 红英 利民 忠诚 兴旺 宝林').split()

# --- texts -----------------------------------------------------------------------------------------

EVIDENCE = {
    'shared_vision': [
        '经班组民主讨论，确定共同愿景："安全零事故、服务零投诉、人人争当技术能手"，已张贴在班组学习园地。',
        '全班{n}名职工参与讨论，形成班组共同愿景"学技术、保安全、创一流"，并写入班组管理手册。',
        '召开班组愿景研讨会，提炼出"精检细查保畅通，学习创新争一流"的共同愿景，制作展板上墙。'],
    'bulletin_board': [
        '在班组活动室设立"创争"宣传栏，设"学习园地""技术比武""成果展示"三个栏目，每月更新一次。',
        '宣传栏已建成并按月更新，本月内容：规章学习要点、安全警示案例、职工学习心得。'],
    'training_plan': [
        '制定{year}年班组学习培训计划，全年安排业务培训12次、技术练兵4次、应急演练2次，按月落实。',
        '围绕岗位作业标准和新规章制定年度培训计划，明确每月培训内容、时间、授课人和考核方式。'],
    'personal_plans': [
        '全班{n}名职工均已制定个人学习计划，明确学习目标和措施，由班组长逐一审核签字。',
        '职工个人学习计划{n}份已全部建立，结合技能鉴定和岗位练兵确定个人年度学习目标。'],
    'project_group': [
        '成立"{topic}"课题攻关小组，组长由班组技术骨干担任，已制定攻关计划和时间节点。',
        '课题攻关小组共{k}人，围绕"{topic}"开展攻关，每月召开一次推进会。'],
    'learning_records': [
        '建立职工学习档案{n}份，记录每人培训学时、考试成绩、技能鉴定和合理化建议情况。',
        '职工学习档案实行一人一档，按季度更新培训、考试和获奖情况。'],
    'team_learning': [
        '坚持每周一次班前学习、每月一次业务讲座，建立"师带徒"结对{k}对，学习制度运行正常。',
        '建立班组学习例会制度，每月集中学习两次，由技术骨干轮流授课，学习记录完整。'],
    'communication': [
        '每月召开一次班组民主会，设立意见箱和班组微信群，职工意见建议均有记录和回复。',
        '建立班组长与职工每月谈心制度，每季度召开一次交流会，沟通情况记录在册。'],
    'result_sharing': [
        '建立班组"知识库"，收录作业技巧、案例分析等{k}篇，每季度组织一次经验分享会。',
        '学习成果和创新成果通过宣传栏、微信群及时共享，本年度组织成果分享会{k}次。'],
    'innovation_change': [
        '开展"小改小革"活动，本年度收集合理化建议{k}条，采纳实施{j}条。',
        '建立创新激励办法，对采纳的合理化建议给予奖励，本年度完成小改小革{j}项。'],
    'learning_atmosphere': [
        '开展读书月、技术比武、岗位练兵等活动，全员参与率100%，班组学习氛围浓厚。',
        '推行"工作学习化、学习工作化"，职工利用班前班后时间互教互学，形成人人学习的良好氛围。'],
}
PROJECT_TOPICS = ['缩短货车停留时间', '提高装载加固质量', '降低篷布损耗', '提高货检发现率', '减少设备故障停机',
                  '优化调度计划编制', '降低货运票据差错率', '提高集装箱作业效率']

RETURN_COMMENTS = {
    'shared_vision': '共同愿景未体现班组岗位特点，请组织职工再讨论完善。',
    'bulletin_board': '宣传栏缺少近两个月的更新记录，请补充照片。',
    'training_plan': '培训计划未明确每月培训内容和授课人。',
    'personal_plans': '个人学习计划未覆盖全体职工，请补齐。',
    'project_group': '课题攻关小组未明确攻关课题和进度安排。',
    'learning_records': '学习档案缺少考试成绩和培训学时统计。',
    'team_learning': '团队学习机制只有制度文本，缺少运行记录。',
    'communication': '缺少季度交流会的会议记录。',
    'result_sharing': '成果共享机制缺少实际共享的案例。',
    'innovation_change': '未说明合理化建议的采纳和实施情况。',
    'learning_atmosphere': '请补充活动照片和参与人员统计。',
}
ENROLMENT_RETURN_REASONS = ['报名材料未附班组成员名单和创建工作计划，请补充后重新报名。',
                            '创建工作计划过于简单，未明确各阶段目标和责任人，请修改后重新报名。',
                            '报名表未经班组全员讨论签字，请完善后重新报名。']
ENROLMENT_REJECT_REASON = '该班组正在进行机构整合，人员尚未稳定，建议整合完成后再报名参加创建。'
ENROLMENT_OVERRIDE_REASON = '分会主席参加路局工会干部培训班（4月7日至25日），经分会委托由处工会代为审核报名。'
WITHDRAW_REASON = '班组承担专用线改造施工配合任务，人员长期借调，申请退出本轮创建活动。'
DECLINE_COSIGN_REASON = '经支部审核，部分职工培训记录缺少本人签名，请补齐后重新提交验收。'

APP_STATEMENT = ('本班组{n}名职工，自{year0}年参加创建学习型班组活动以来，建立了共同愿景和学习培训制度，'
                 '开展岗位练兵和技术比武，取得创新成果{k}项，申报{tier}。')
TIER_ZH = {'learning_team': '学习型班组', 'excellent_team': '学习型优胜班组', 'model_team': '学习型标兵班组'}

DOC_NUMBER = '货工〔2026〕12号'
DOC_TITLE = '关于命名表彰2026年度学习型班组、学习型优胜班组的决定'

# --- small helpers ---------------------------------------------------------------------------------


def _png(width, height, rgb):
    """A small, valid PNG of one colour with a darker band (stands in for a photo)."""
    dark = bytes(c // 2 for c in rgb)
    rows = []
    for y in range(height):
        pixel = dark if height // 3 <= y < height // 3 + 4 else bytes(rgb)
        rows.append(b'\x00' + pixel * width)

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b''.join(rows))) + chunk(b'IEND', b''))


def _working(day):
    while day.weekday() >= 5 or day in HOLIDAYS:
        day += dt.timedelta(days=1)
    return day


def _at(day, rng):
    """A moment in office hours (08:30–17:30 Beijing, i.e. 00:30–09:30 UTC) of the next working day."""
    day = _working(day)
    return dt.datetime(day.year, day.month, day.day, 0, 30) + dt.timedelta(minutes=rng.randint(0, 540),
                                                                            seconds=rng.randint(0, 59))


def _after(t, days, rng):
    """A working moment `days` days after t (later the same day when days is 0)."""
    moment = _at(t.date() + dt.timedelta(days=days), rng)
    return moment if moment > t else t + dt.timedelta(minutes=rng.randint(10, 90))


def d(month, day, year=YEAR):
    return dt.date(year, month, day)


class Timeline:
    """Runs generator "stories" in time order. A story yields the datetime of its next step; it is resumed
    with the engine clock set to that moment and then performs the step."""

    def __init__(self, bar):
        self.heap, self.count, self.now, self.bar = [], 0, START, bar

    def spawn(self, story):
        try:
            self._push(next(story), story)
        except StopIteration:
            pass

    def _push(self, when, story):
        if when <= self.now:                       # never step back in time
            when = self.now + dt.timedelta(minutes=1)
        if when > END:
            raise RuntimeError(f'demo story {story.__name__} runs past the end of the demo ({when})')
        heapq.heappush(self.heap, (when, self.count, story))
        self.count += 1

    def run(self):
        while self.heap:
            when, _, story = heapq.heappop(self.heap)
            if self.bar is not None:
                self.bar.update((when.date() - self.now.date()).days)
            self.now = when
            clock.set_now(when)
            try:
                self._push(story.send(when), story)
            except StopIteration:
                pass


# --- the demo --------------------------------------------------------------------------------------


class Demo:
    def __init__(self, rng, bar):
        self.rng = rng
        self.timeline = Timeline(bar)
        self.campaign = None
        self.teams = {}          # name → Team
        self.leader = {}         # team id → User
        self.chair = {}          # branch id → User
        self.secretary = {}      # branch id → User
        self.size = {}           # team id → number of members
        self.requirements = {}   # stage → [Requirement]

    def story_rng(self):
        return random.Random(self.rng.randrange(2 ** 32))

    # organisation ----------------------------------------------------------------------------------

    def build_organisation(self):
        password_hash = org.hash_password(PASSWORD)      # argon2 is slow: hash once, share it
        names = self._names()

        def user(username, display_name):
            return User.create(username=username, display_name=display_name, password_hash=password_hash,
                               created_at=START)

        self.unit = Unit.create(**UNIT)
        leaders, employee_no = 0, 10000
        for b, (branch_name, chair_name, secretary_name, teams) in enumerate(BRANCHES, 1):
            branch = Branch.create(unit=self.unit, name=branch_name)
            chair = self.chair[branch.id] = user(f'chair{b}', chair_name)
            secretary = self.secretary[branch.id] = user(f'secretary{b}', secretary_name)
            org.assign_role(chair, 'branch_chair', branch=branch)
            org.assign_role(secretary, 'party_secretary', branch=branch)
            for team_name, outcome in teams:
                team = self.teams[team_name] = Team.create(branch=branch, name=team_name)
                team.outcome = outcome
                if team_name == CHAIR_LED_TEAM:
                    leader = chair
                else:
                    leaders += 1
                    leader = user(f'leader{leaders:02d}', next(names))
                self.leader[team.id] = leader
                org.assign_role(leader, 'team_leader', team=team)
                size = self.size[team.id] = self.rng.randint(5, 9)
                for i in range(size):
                    employee_no += 1
                    is_leader = i == 0
                    org.add_member(team, leader.display_name if is_leader else next(names), f'HY{employee_no}',
                                   user=leader if is_leader else None)
        for username, display_name in STAFF:
            org.assign_role(user(username, display_name), 'union_staff', unit=self.unit)
        org.assign_role(user(*AUDITOR), 'auditor')
        self.staff1 = User.get(User.username == 'staff1')
        self.staff2 = User.get(User.username == 'staff2')
        self.system = org.system_user()
        self.system.created_at = START
        self.system.save()

    def _names(self):
        taken = {n for _, chair, secretary, _ in BRANCHES for n in (chair, secretary)}
        taken |= {n for _, n in STAFF} | {AUDITOR[1]}
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in taken:
                taken.add(name)
                yield name

    def reviewer(self, team):
        """Who reviews the team's submissions at branch level: the chair, or the secretary for the chair's team."""
        chair = self.chair[team.branch_id]
        return self.secretary[team.branch_id] if self.leader[team.id] == chair else chair

    def stage_requirements(self, stage):
        if stage not in self.requirements:
            self.requirements[stage] = list(Requirement.select().where(
                Requirement.campaign == self.campaign, Requirement.stage == stage).order_by(Requirement.position))
        return self.requirements[stage]

    # the union's campaign ----------------------------------------------------------------------------

    def campaign_story(self):
        rng = self.story_rng()
        yield _at(CAMPAIGN_CREATED, rng)
        self.campaign = engine.create('campaign', self.staff1, {
            'unit_id': self.unit.id, 'title': '货运处创建学习型班组活动', 'period': '2025-2027',
            'settings': {'notice_days': 7, 'quotas': {'learning_team': 10, 'excellent_team': 4, 'model_team': 2}}})
        yield _at(LAUNCH, rng)
        self.campaign = engine.fire(self.campaign, 'launch', self.staff1)
        yield _at(ADVANCE, rng)
        # ≥ 50 % of the teams of the unit and of every branch take part by now: no override needed
        self.campaign = engine.fire(self.campaign, 'advance', self.staff1)

    # a team's participation ------------------------------------------------------------------------

    def participation_story(self, team):
        s = TeamStory(self, team, self.story_rng())
        outcome = team.outcome
        rng = s.rng
        if outcome == 'none':
            return
        if outcome == 'pop_in_progress':
            enrol_day = d(4, rng.randint(8, 20))
        elif outcome == 'enrol_returned':
            enrol_day = d(10, rng.randint(19, 23))
        elif outcome == 'requested':
            enrol_day = d(11, rng.randint(16, 18))
        elif team.name == ENROLMENT_BY_UNION:
            enrol_day = dt.date(2025, 4, 8)
        else:
            enrol_day = dt.date(2025, 3, 19) + dt.timedelta(days=rng.randint(0, 45))
        yield from s.enrol(_at(enrol_day, rng))
        if outcome == 'requested':
            return
        if outcome == 'enrol_returned':
            yield from s.fire_after(rng.randint(2, 4), 'return_enrolment', s.reviewer,
                                    reason=rng.choice(ENROLMENT_RETURN_REASONS))
            return
        if outcome == 'rejected':
            yield from s.fire_after(rng.randint(2, 5), 'reject_enrolment', s.reviewer, reason=ENROLMENT_REJECT_REASON)
            return
        if team.name in ENROLMENT_RETURNED_FIRST:
            yield from s.fire_after(rng.randint(1, 4), 'return_enrolment', s.reviewer,
                                    reason=rng.choice(ENROLMENT_RETURN_REASONS))
            yield from s.fire_after(rng.randint(2, 7), 'resubmit_enrolment', s.leader)
        if team.name == ENROLMENT_BY_UNION:
            yield from s.fire_after(rng.randint(2, 4), 'approve_enrolment', self.staff1,
                                    reason=ENROLMENT_OVERRIDE_REASON)
        else:
            yield from s.fire_after(rng.randint(1, 4), 'approve_enrolment', s.reviewer)

        # popularization (普及阶段): the 六个一
        if outcome == 'withdrawn':
            yield from s.evidence('popularization', items=2)
            yield from s.fire_after(rng.randint(20, 40), 'withdraw', s.leader, reason=WITHDRAW_REASON)
            return
        if outcome == 'pop_in_progress':
            yield from s.evidence('popularization', items=3, first=(10, 25), spacing=(15, 40))
            return
        if outcome == 'pop_submitted':
            yield from s.stage('popularization', returns=1, outcome='submitted', spacing=(15, 30),
                               resubmit_at=[d(11, rng.randint(10, 17))])
            return
        if outcome == 'pop_returned':
            yield from s.stage('popularization', returns=2, outcome='returned', spacing=(12, 25),
                               resubmit_at=[d(10, rng.randint(12, 23))])
            return
        if outcome == 'pop_reached':
            yield from s.stage('popularization', returns=2, outcome='reached', spacing=(12, 25),
                               resubmit_at=[d(5, rng.randint(11, 22)), d(10, rng.randint(12, 16))])
            return
        # most teams pass the first time, some are returned once or twice (fast teams at most once)
        returns = rng.choices([0, 1, 2], [6, 3, 1])[0]
        if outcome == 'con_reached':
            returns = min(returns, 1)
        yield from s.stage('popularization', returns=returns, decline=team.name == DECLINED_COSIGN, spacing=(7, 30))

        # consolidation (巩固提高阶段): four mechanisms and one atmosphere, once the campaign got there
        start = max(_after(s.t, rng.randint(2, 14), rng), _at(ADVANCE + dt.timedelta(days=rng.randint(4, 20)), rng))
        s.t = yield start
        s.fire('start_next_stage', s.leader)
        if outcome == 'con_reached':
            yield from s.stage('consolidation', returns=rng.choice([0, 1]), first=(5, 20), spacing=(10, 30))
        elif outcome == 'con_cosign':
            yield from s.stage('consolidation', outcome='cosign', spacing=(10, 40),
                               submit_at=d(rng.choice([10, 11]), rng.randint(2, 9)))
        elif outcome == 'con_submitted':
            yield from s.stage('consolidation', outcome='submitted', spacing=(10, 40),
                               submit_at=d(11, rng.randint(9, 18)))
        elif outcome == 'con_returned':
            yield from s.stage('consolidation', returns=1, outcome='returned', spacing=(10, 40),
                               submit_at=d(rng.choice([9, 10]), rng.randint(14, 28)))
        else:
            yield from s.evidence('consolidation', items=rng.randint(1, 5), first=(10, 40), spacing=(10, 45))

    # applications (申报) --------------------------------------------------------------------------

    def application_story(self, team_name, tier, steps):
        """steps: [(date, action, extra)]; actions are the application events, with 'score1'/'score2'
        for the two judges and 'objection' for another team's leader lodging one."""
        rng = self.story_rng()
        team = self.teams[team_name]
        leader, reviewer = self.leader[team.id], self.reviewer(team)
        app = None
        for day, action, extra in steps:
            yield _at(day, rng)
            if app is not None:
                app = Application.get_by_id(app.id)      # the union's bulk steps may have moved it meanwhile
            if action == 'create':
                statement = APP_STATEMENT.format(n=self.size[team.id], year0=2025, k=rng.randint(2, 6),
                                                 tier=TIER_ZH[tier])
                app = engine.create('application', leader, {'team_id': team.id, 'campaign_id': self.campaign.id,
                                                            'year': YEAR, 'tier': tier, 'statement': statement})
            elif action == 'submit':
                app = engine.fire(app, action, leader)
            elif action == 'withdraw':
                app = engine.fire(app, action, leader, reason=extra)
            elif action in ('recommend', 'branch_return', 'branch_reject'):
                event = {'recommend': 'recommend', 'branch_return': 'return', 'branch_reject': 'reject'}[action]
                app = engine.fire(app, event, reviewer, reason=extra)
            elif action in ('score1', 'score2'):
                judge = self.staff1 if action == 'score1' else self.staff2
                app = engine.fire(app, 'score', judge, payload={'criteria': score_sheet(extra, rng)})
            elif action == 'approve':
                app = engine.fire(app, 'approve', self.staff1)
            elif action in ('union_return', 'union_reject', 'revoke'):
                event = {'union_return': 'return', 'union_reject': 'reject', 'revoke': 'revoke'}[action]
                app = engine.fire(app, event, self.staff1, reason=extra)
            elif action == 'downgrade':
                app = engine.fire(app, 'downgrade', self.staff1, reason=extra[1], payload={'tier': extra[0]})
            elif action == 'objection':
                by, text = extra
                app = engine.fire(app, 'lodge_objection', self.leader[self.teams[by].id], reason=text)
            elif action in ('dismiss', 'uphold'):
                objection = (Objection.select().where(Objection.application == app, Objection.resolution.is_null())
                             .order_by(Objection.id.desc()).get())
                event = 'dismiss_objection' if action == 'dismiss' else 'uphold_objection'
                app = engine.fire(app, event, self.staff1, reason=extra,
                                  payload={'objection_id': objection.id})
            else:
                raise ValueError(action)

    def evaluation_story(self):
        """The union's bulk steps: publish notices (公示) in waves, the system closing them when the period
        is over, and one commendation decision (表彰决定) for the first wave."""
        rng = self.story_rng()
        for publish_day, team_names, decision_day in NOTICE_WAVES:
            t = yield _at(publish_day, rng)
            ends = []
            for name in team_names:
                app = Application.get(Application.team == self.teams[name], Application.year == YEAR)
                if app.state != 'approved':
                    raise RuntimeError(f'demo: the application of {name} is {app.state}, not approved')
                app = engine.fire(app, 'publish_notice', self.staff1)
                ends.append(app.notice_ends_at)
                t = yield t + dt.timedelta(minutes=rng.randint(1, 4))
            if max(ends) + dt.timedelta(minutes=1) > END:
                continue                               # still on public notice "today"
            yield max(ends) + dt.timedelta(minutes=1)
            scheduler.tick()                           # what the every-minute cron job does, as the system user
            if decision_day:
                t = yield _at(decision_day, rng)
                decision = CommendationDecision.create(unit=self.unit, year=YEAR, doc_number=DOC_NUMBER,
                                                       title=DOC_TITLE, issued_at=t, issued_by=self.staff1)
                for app in Application.select().where(Application.campaign == self.campaign,
                                                      Application.year == YEAR,
                                                      Application.state == 'notice_closed').order_by(Application.id):
                    engine.fire(app, 'commend', self.staff1, payload={'decision_id': decision.id})
                    t = yield t + dt.timedelta(minutes=1)

    # innovation results (创新成果) -------------------------------------------------------------------

    def innovation_story(self, team_name, year, topic, title, summary, steps):
        rng = self.story_rng()
        team = self.teams[team_name]
        leader, reviewer = self.leader[team.id], self.reviewer(team)
        result = None
        for day, action, extra in steps:
            yield _at(day, rng)
            if action == 'create':
                result = engine.create('innovation', leader, {
                    'team_id': team.id, 'campaign_id': self.campaign.id, 'year': year, 'title': title,
                    'topic': topic, 'summary': summary})
            elif action in ('submit', 'withdraw'):
                result = engine.fire(result, action, leader, reason=extra)
            elif action in ('approve', 'return', 'reject'):
                result = engine.fire(result, action, reviewer, reason=extra)
            else:
                raise ValueError(action)

    def release_story(self, day, year):
        """The November release (学习创新成果发布): union staff publish every approved result of the year."""
        rng = self.story_rng()
        t = yield _at(day, rng)
        approved = (InnovationResult.select()
                    .where(InnovationResult.campaign == self.campaign, InnovationResult.year == year,
                           InnovationResult.state == 'approved')
                    .order_by(InnovationResult.id))
        for result in approved:
            engine.fire(result, 'publish', self.staff1)
            t = yield t + dt.timedelta(minutes=rng.randint(1, 3))

    # everything --------------------------------------------------------------------------------------

    def run(self):
        tl = self.timeline
        tl.spawn(self.campaign_story())
        for team in self.teams.values():
            tl.spawn(self.participation_story(team))
        for team_name, tier, steps in APPLICATIONS:
            tl.spawn(self.application_story(team_name, tier, steps))
        tl.spawn(self.evaluation_story())
        for team_name, year, topic, title, summary, steps in INNOVATIONS:
            tl.spawn(self.innovation_story(team_name, year, topic, title, summary, steps))
        tl.spawn(self.release_story(dt.date(2025, 11, 5), 2025))
        tl.spawn(self.release_story(d(11, 4), 2026))
        tl.run()


class TeamStory:
    """The steps of one team's participation; generator methods are used with `yield from`."""

    def __init__(self, demo, team, rng):
        self.demo, self.team, self.rng = demo, team, rng
        self.leader = demo.leader[team.id]
        self.reviewer = demo.reviewer(team)
        self.secretary = demo.secretary[team.branch_id]
        self.p = None
        self.t = None
        self.topic = rng.choice(PROJECT_TOPICS)

    def fire(self, event, actor, **kw):
        self.p = engine.fire(self.p, event, actor, **kw)

    def fire_after(self, days, event, actor, **kw):
        self.t = yield _after(self.t, days, self.rng)
        self.fire(event, actor, **kw)

    def enrol(self, when):
        self.t = yield when
        self.p = engine.create('participation', self.leader,
                               {'team_id': self.team.id, 'campaign_id': self.demo.campaign.id})

    def evidence_text(self, requirement):
        template = self.rng.choice(EVIDENCE[requirement.code])
        return template.format(n=self.demo.size[self.team.id], year=self.t.year, topic=self.topic,
                               k=self.rng.randint(3, 12), j=self.rng.randint(1, 3))

    def files_for(self, requirement):
        name, rng = self.team.name, self.rng
        if requirement.code == 'bulletin_board':
            colour = (rng.randint(90, 230), rng.randint(90, 230), rng.randint(90, 230))
            return [(f'{name}宣传栏照片.png', _png(96, 64, colour))]
        if requirement.code == 'training_plan' and rng.random() < .6:
            text = (f'{name}{self.t.year}年学习培训计划\n\n一、培训目标：全员达到岗位作业标准\n'
                    f'二、培训安排：每月业务培训一次，每季度技术练兵一次\n三、考核方式：月度考试、年度技能鉴定\n')
            return [(f'{name}{self.t.year}年学习培训计划.txt', text.encode('utf-8'))]
        return []

    def record(self, requirement, fix=False):
        text = self.evidence_text(requirement)
        if fix:
            text = '已按审核意见补充完善：' + text
        engine.record_evidence(self.p, requirement.id, self.leader, text=text,
                               add_files=[] if fix else self.files_for(requirement))

    def evidence(self, stage, items=None, first=(5, 20), spacing=(4, 18)):
        requirements = self.demo.stage_requirements(stage)
        for i, requirement in enumerate(requirements[:items]):
            self.t = yield _after(self.t, self.rng.randint(*(first if i == 0 else spacing)), self.rng)
            self.record(requirement)

    def return_items(self, stage, event, actor, reason=None, count=None):
        requirements = self.demo.stage_requirements(stage)
        failed = self.rng.sample(requirements, count or self.rng.choice([1, 1, 2]))
        comments = {str(r.id): RETURN_COMMENTS[r.code] for r in failed}
        self.fire(event, actor, reason=reason or '；'.join(comments.values()),
                  payload={'requirement_ids': [r.id for r in failed], 'comments': comments})
        return failed

    def fix(self, failed, resubmit_at=None):
        for requirement in failed:
            self.t = yield _after(self.t, self.rng.randint(3, 10), self.rng)
            self.record(requirement, fix=True)
        when = _after(self.t, self.rng.randint(1, 5), self.rng)
        self.t = yield max(when, _at(resubmit_at, self.rng)) if resubmit_at else when
        self.fire('submit_stage', self.leader)

    def stage(self, stage, returns=0, outcome='reached', decline=False, submit_at=None, resubmit_at=(),
              first=(5, 20), spacing=(4, 18)):
        """Evidence, submission, `returns` returns and fixes, then approval (and co-signature)."""
        rng = self.rng
        yield from self.evidence(stage, first=first, spacing=spacing)
        when = _after(self.t, rng.randint(2, 10), rng)
        self.t = yield max(when, _at(submit_at, rng)) if submit_at else when
        self.fire('submit_stage', self.leader)
        resubmit_at = list(resubmit_at)
        for i in range(returns):
            self.t = yield _after(self.t, rng.randint(2, 6), rng)
            failed = self.return_items(stage, 'return_stage', self.reviewer)
            if outcome == 'returned' and i == returns - 1:
                return
            yield from self.fix(failed, resubmit_at.pop(0) if resubmit_at else None)
        if outcome == 'submitted':
            return
        yield from self.fire_after(rng.randint(2, 6), 'approve_stage', self.reviewer)
        if self.p.state == 'awaiting_cosign':
            if decline:
                self.t = yield _after(self.t, rng.randint(1, 4), rng)
                failed = self.return_items(stage, 'decline_cosign', self.secretary, reason=DECLINE_COSIGN_REASON,
                                           count=1)
                yield from self.fix(failed)
                yield from self.fire_after(rng.randint(1, 4), 'approve_stage', self.reviewer)
            if outcome == 'cosign':
                return
            yield from self.fire_after(rng.randint(1, 4), 'cosign_stage', self.secretary)


def score_sheet(target, rng):
    """Rubric scores (organisation 20, learning 30, innovation 30, atmosphere 20) adding up to about `target`."""
    maxima = {'organisation': 20, 'learning': 30, 'innovation': 30, 'atmosphere': 20}
    return {code: max(0, min(top, round(top * target / 100 + rng.uniform(-1.5, 1.5)))) for code, top in maxima.items()}


# --- the applications' stories (all in 2026) -------------------------------------------------------

def _evaluated(create, submit, recommend, scores, decision, extra=None):
    """The common path: drafted, submitted, recommended by the branch, scored by both judges, decided."""
    (m1, d1), (m2, d2), (m3, d3) = create, submit, recommend
    target = scores[2]
    steps = [(d(m1, d1), 'create', None), (d(m2, d2), 'submit', None), (d(m3, d3), 'recommend', None),
             (d(*scores[0]), 'score1', target), (d(*scores[1]), 'score2', target - 1)]
    if decision:
        steps.append((d(*decision[0]), decision[1], extra))
    return steps


OBJECTION_DISMISSED = ('反映该班组学习档案中部分培训记录为集中补记，请核实。',
                       '经处工会调阅原始签到表及培训影像资料，培训记录真实，异议不成立。')
OBJECTION_UPHELD = ('该班组9月份发生一起货物装载加固不良问题，已被路局通报，不符合评选条件。',
                    '经核实情况属实，按评比办法取消该班组本年度评选资格。')
OBJECTION_OPEN = '反映该班组申报材料中的创新成果系外委完成，并非班组自主攻关，请核实。'

APPLICATIONS = [
    # excellent-team applications (学习型优胜班组) by teams that reached the consolidation stage
    ('东场装卸二班', 'excellent_team',          # the chair's own team: recommended by the party secretary
     _evaluated((9, 2), (9, 8), (9, 10), [(10, 9), (10, 12), 92], [(10, 15), 'approve'])),
    ('南站货运计划班', 'excellent_team',
     _evaluated((9, 3), (9, 9), (9, 14), [(10, 9), (10, 12), 90], [(10, 15), 'approve'])
     + [(d(10, 21), 'objection', ('运转二班', OBJECTION_DISMISSED[0])), (d(10, 23), 'dismiss', OBJECTION_DISMISSED[1])]),
    ('货检一班', 'excellent_team',
     _evaluated((9, 4), (9, 10), (9, 15), [(10, 9), (10, 13), 81],
                [(10, 28), 'downgrade'], ('learning_team', '评审平均分未达到优胜班组标准（85分），按学习型班组予以通过。'))),
    ('起重机司机班', 'excellent_team',
     [(d(9, 14), 'create', None), (d(9, 21), 'submit', None), (d(9, 25), 'recommend', None),
      (d(11, 16), 'score1', 86)]),
    ('南站货运调度班', 'excellent_team',
     _evaluated((9, 7), (9, 11), (9, 16), [(10, 9), (10, 12), 72],
                [(10, 16), 'union_reject'], '综合评分排名靠后，未达到学习型优胜班组标准。')),
    ('东场装卸一班', 'excellent_team',
     [(d(9, 1), 'create', None), (d(9, 7), 'submit', None),
      (d(9, 9), 'branch_return', '申报材料中学习档案统计数据与台账不一致，请核实后重新申报。'),
      (d(9, 22), 'submit', None), (d(9, 24), 'recommend', None), (d(11, 10), 'score1', 89),
      (d(11, 11), 'score2', 88), (d(11, 17), 'approve', None)]),
    # learning-team applications (学习型班组)
    ('东场安全质量班', 'learning_team',
     _evaluated((9, 2), (9, 9), (9, 11), [(10, 9), (10, 12), 86], [(10, 15), 'approve'])),
    ('运转一班', 'learning_team',
     _evaluated((9, 4), (9, 10), (9, 14), [(10, 9), (10, 12), 84], [(10, 15), 'approve'])
     + [(d(11, 17), 'revoke', '经复查，该班组申报材料中部分学习培训记录系事后补录，与实际不符，'
                               '经处工会研究决定撤销其"学习型班组"称号。')]),
    ('货检四班', 'learning_team',
     _evaluated((9, 8), (9, 15), (9, 17), [(10, 12), (10, 13), 85], [(10, 16), 'approve'])),
    ('超偏载检测班', 'learning_team',
     _evaluated((9, 8), (9, 14), (9, 18), [(10, 12), (10, 13), 83], [(10, 16), 'approve'])
     + [(d(10, 21), 'objection', ('货检三班', OBJECTION_UPHELD[0])), (d(10, 23), 'uphold', OBJECTION_UPHELD[1])]),
    ('南站装卸班', 'learning_team',
     [(d(9, 9), 'create', None), (d(9, 16), 'submit', None), (d(9, 21), 'recommend', None),
      (d(10, 14), 'union_return', '创新成果部分缺少效益测算证明材料，请补充后重新申报。'),
      (d(10, 19), 'submit', None), (d(10, 21), 'recommend', None), (d(10, 26), 'score1', 82),
      (d(10, 27), 'score2', 81), (d(10, 29), 'approve', None)]),
    ('机械检修二班', 'learning_team',
     _evaluated((9, 10), (9, 17), (9, 22), [(10, 13), (10, 14), 80], [(11, 9), 'approve'])
     + [(d(11, 18), 'objection', ('机具材料班', OBJECTION_OPEN))]),
    ('危险货物检查班', 'learning_team',
     _evaluated((9, 10), (9, 18), (9, 23), [(10, 13), (10, 14), 84], [(11, 10), 'approve'])),
    ('电气维修班', 'learning_team',
     _evaluated((9, 11), (9, 21), (9, 24), [(11, 10), (11, 11), 79], [(11, 13), 'approve'])),
    ('叉车作业班', 'learning_team',
     _evaluated((9, 14), (9, 22), (9, 25), [(11, 12), (11, 16), 78], None)),
    ('东场装卸三班', 'learning_team',
     [(d(10, 12), 'create', None), (d(10, 19), 'submit', None), (d(10, 22), 'recommend', None)]),
    ('货检二班', 'learning_team', [(d(11, 9), 'create', None), (d(11, 16), 'submit', None)]),
    ('南站货运营业班', 'learning_team', [(d(11, 10), 'create', None), (d(11, 18), 'submit', None)]),
    ('货运核算班', 'learning_team',
     [(d(10, 20), 'create', None), (d(10, 26), 'submit', None),
      (d(11, 6), 'branch_return', '申报表未附班组创新成果证明材料，请补充后重新提交。')]),
    ('篷布管理班', 'learning_team',
     [(d(9, 15), 'create', None), (d(9, 22), 'submit', None), (d(9, 28), 'recommend', None),
      (d(10, 15), 'union_return', '申报材料未体现巩固提高阶段四个机制的运行情况，请补充后重新申报。')]),
    ('装载机班', 'learning_team', [(d(11, 12), 'create', None)]),
    ('设备管理班', 'learning_team', [(d(11, 18), 'create', None)]),
    ('轨道吊班', 'learning_team',
     [(d(9, 7), 'create', None), (d(9, 14), 'submit', None),
      (d(9, 18), 'branch_reject', '该班组本年度发生一起设备责任故障，按评比办法实行一票否决，不予推荐。')]),
    ('集装箱作业班', 'learning_team',
     [(d(9, 9), 'create', None), (d(9, 15), 'submit', None),
      (d(9, 29), 'withdraw', '班组长岗位调整，申报材料需重新整理，本年度暂不申报。')]),
]

# (publish day, applications put on public notice, day of the commendation decision or None)
NOTICE_WAVES = [
    (d(10, 19), ['东场装卸二班', '南站货运计划班', '东场安全质量班', '运转一班', '货检四班', '超偏载检测班'], d(11, 3)),
    (d(11, 5), ['货检一班', '南站装卸班'], None),
    (d(11, 16), ['机械检修二班', '危险货物检查班'], None),
]

# --- innovation results (创新成果) -------------------------------------------------------------------


def _published(create, submit, approve, year=YEAR):
    return [(d(*create, year=year), 'create', None), (d(*submit, year=year), 'submit', None),
            (d(*approve, year=year), 'approve', None)]


INNOVATIONS = [
    # 2025, released on 5 November 2025
    ('东场装卸一班', 2025, 'efficiency', '优化装卸作业组织缩短货车停留时间',
     '推行"预确报、预安排、预准备"作业组织，平均货车停留时间由6.2小时缩短到4.8小时。',
     _published((9, 15), (9, 22), (9, 26), 2025)),
    ('货检一班', 2025, 'quality', '货检作业"一看二查三确认"标准化作业法',
     '将货检作业细化为看、查、确认三个环节，全年发现装载加固隐患较上年增加35%。',
     _published((9, 16), (9, 24), (9, 29), 2025)),
    ('南站货运计划班', 2025, 'management', '货运计划"日清日结"管理法',
     '每日对请求车计划逐项销号，计划兑现率由92%提高到98%。',
     _published((9, 18), (9, 25), (10, 10), 2025)),
    ('起重机司机班', 2025, 'cost', '起重机钢丝绳润滑保养方法改进',
     '改进钢丝绳润滑周期和方法，钢丝绳使用寿命延长约30%，年节约材料费4.6万元。',
     _published((9, 19), (9, 26), (10, 13), 2025)),
    ('运转二班', 2025, 'management', '交接班"三交三清"作业办法',
     '交接班时交清现车、交清计划、交清安全注意事项。',
     [(dt.date(2025, 9, 22), 'create', None), (dt.date(2025, 9, 29), 'submit', None),
      (dt.date(2025, 10, 14), 'reject', '该成果为现行作业标准的常规要求，创新点不突出，不予通过。')]),
    # 2026, released on 4 November 2026
    ('东场装卸二班', YEAR, 'efficiency', '门吊作业"一钩多箱"提高装卸工效',
     '改进门吊吊具和作业顺序，空箱作业实现一钩双箱，单箱作业时间缩短约25%。',
     _published((8, 20), (9, 1), (9, 4))),
    ('南站货运调度班', YEAR, 'management', '调度作业"三级盯控"管理办法',
     '建立班组、车间、处三级盯控机制，重点作业盯控到位率100%。',
     _published((8, 25), (9, 2), (9, 7))),
    ('货检四班', YEAR, 'quality', '提高篷布苫盖质量合格率',
     '运用QC方法分析苫盖不良原因，制定改进措施，篷布苫盖合格率由94.5%提高到99.2%。',
     [(d(8, 26), 'create', None), (d(9, 3), 'submit', None),
      (d(9, 8), 'return', '成果效益数据缺少前后对比统计，请补充后重新提交。'),
      (d(9, 21), 'submit', None), (d(9, 24), 'approve', None)]),
    ('机械检修一班', YEAR, 'cost', '叉车轮胎翻新再利用',
     '对磨损叉车实心轮胎进行翻新再利用，全年节约轮胎采购费用约7.8万元。',
     _published((9, 1), (9, 10), (9, 15))),
    ('集装箱作业班', YEAR, 'quality', '集装箱装载加固"四检"法',
     '推行装前检、装中检、装后检、发车前检，集装箱装载加固问题实现零发生。',
     _published((9, 8), (9, 22), (10, 12))),
    ('电气维修班', YEAR, 'cost', '货场照明LED节能改造',
     '将货场高杆灯更换为LED灯具并加装时控装置，年节约电费约12万元。',
     _published((10, 15), (10, 23), (11, 12))),
    ('超偏载检测班', YEAR, 'efficiency', '超偏载复检作业流程优化',
     '优化复检作业流程和人员分工，单车复检时间由25分钟缩短到15分钟。',
     [(d(10, 28), 'create', None), (d(11, 16), 'submit', None)]),
    ('东场货运调度班', YEAR, 'management', '货场作业"可视化"看板管理',
     '设置作业进度看板，实时显示装卸车进度和待办事项，作业衔接更加顺畅。',
     [(d(11, 2), 'create', None), (d(11, 17), 'submit', None)]),
    ('危险货物检查班', YEAR, 'quality', '危险货物检查"双人确认"作业法',
     '危险货物检查实行双人检查、双人签认，检查质量明显提高。',
     [(d(10, 10), 'create', None), (d(10, 20), 'submit', None),
      (d(10, 26), 'return', '请补充成果实施前后的检查质量对比数据和职工培训情况。')]),
    ('南站货运营业班', YEAR, 'efficiency', '货运营业"一站式"受理',
     '整合受理、制票、收费窗口，货主办理时间平均缩短20分钟。',
     [(d(11, 11), 'create', None)]),
    ('机具材料班', YEAR, 'cost', '机具材料"定额领用"管理', '',
     [(d(11, 19), 'create', None)]),
    ('运转一班', YEAR, 'management', '调车作业"要道还道"口诀',
     '编写调车作业口诀，便于职工记忆。',
     [(d(9, 10), 'create', None), (d(9, 17), 'submit', None),
      (d(9, 22), 'reject', '该成果与2025年已发布成果内容重复，不予通过。')]),
    ('篷布管理班', YEAR, 'cost', '篷布修补再利用',
     '对破损篷布进行分类修补再利用，减少新篷布采购。',
     [(d(9, 15), 'create', None), (d(9, 24), 'submit', None),
      (d(10, 13), 'withdraw', '成果仍在试运行阶段，待取得完整数据后再行申报。')]),
]


# --- entry point -----------------------------------------------------------------------------------

def seed(progress=False, random_seed=SEED):
    """Load the demo into an empty database through the engine; return a one-line summary."""
    if Unit.select().exists() or AuditRecord.select().exists():
        raise click.ClickException('数据库中已有数据，演示数据只能装入空数据库 (the database is not empty)')
    started = time.monotonic()
    total_days = (END.date() - START.date()).days
    bar_context = (click.progressbar(length=total_days, label='生成演示数据 seeding demo', file=sys.stderr)
                   if progress else nullcontext())
    try:
        with bar_context as bar, database.atomic():
            clock.set_now(START)
            demo = Demo(random.Random(random_seed), bar)
            demo.build_organisation()
            demo.run()
            if bar is not None:
                bar.update(total_days - bar.pos)
    finally:
        clock.set_now(None)
    return summary(time.monotonic() - started)


def summary(seconds=None):
    unit = Unit.get(Unit.code == UNIT['code'])
    branches = Branch.select().where(Branch.unit == unit)
    teams = Team.select().join(Branch).where(Branch.unit == unit)
    members = Member.select().join(Team).join(Branch).where(Branch.unit == unit)
    campaign = Campaign.get(Campaign.unit == unit)
    text = (f'{unit.name}: {branches.count()} branches, {teams.count()} teams, {members.count()} members, '
            f'{User.select().count()} users, {AuditRecord.select().count()} audit records; '
            f'campaign in {campaign.state}; password for every demo user: {PASSWORD}')
    if seconds is not None:
        text += f' ({seconds:.1f} s)'
    return text


__all__ = ['seed', 'summary', 'PASSWORD']
