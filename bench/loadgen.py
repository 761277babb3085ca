"""Work for the load test: extra branches, teams and people in the demo unit (货运处), with each team's
participation laid down through the engine (engine.create / fire / record_evidence) in a state that gives
somebody something to do — leaders evidence to write and stages to submit, chairs enrolments and stages to
review, party secretaries stage approvals to co-sign.

Each load branch has two chairs (its own, and the previous branch's as deputy), so two reviewers work
through the same inbox and sometimes decide on the same item at once: the second gets 409.

Run after the demo seed (cli/demo.py) on the same database, or after `minimal_unit()` where the demo's
history is not wanted (the short CI run); deterministic for a given seed."""
import random
from dataclasses import dataclass, field

import engine
from engine import org
from models import Branch, Campaign, Requirement, Team, Unit, User, database
from cli.demo import AUDITOR, GIVEN, PASSWORD, STAFF, SURNAMES, UNIT

# What each team's participation looks like when the load starts, cycled over the teams.
OPENINGS = ['requested', 'pop_empty', 'pop_submitted', 'pop_cosign', 'pop_returned', 'pop_partial',
            'con_submitted', 'pop_reached', 'con_empty', 'con_cosign', 'con_returned', 'pop_submitted',
            'con_partial', 'requested', 'con_submitted', 'pop_empty']
RETURN_REASON = '材料不完整，请按退回意见补充后重新提交。'


@dataclass
class Workload:
    """Who the generator created, by role (usernames), and the participations it laid down."""
    leaders: list = field(default_factory=list)
    chairs: list = field(default_factory=list)
    secretaries: list = field(default_factory=list)
    participation_ids: list = field(default_factory=list)
    branch_ids: list = field(default_factory=list)
    openings: dict = field(default_factory=dict)      # opening → how many teams start there


def minimal_unit():
    """The demo's unit without its history: 货运处 with its settings, the two union staff, the auditor, and a
    campaign launched and advanced to consolidation (an override with a reason: no team takes part yet)."""
    unit = Unit.create(**UNIT)
    password_hash = org.hash_password(PASSWORD)
    for username, name in STAFF:
        org.assign_role(User.create(username=username, display_name=name, password_hash=password_hash),
                        'union_staff', unit=unit)
    org.assign_role(User.create(username=AUDITOR[0], display_name=AUDITOR[1], password_hash=password_hash), 'auditor')
    staff = User.get(User.username == STAFF[0][0])
    campaign = engine.create('campaign', staff, {'unit_id': unit.id, 'title': '货运处创建学习型班组活动',
                                                 'period': '2025-2027'})
    campaign = engine.fire(campaign, 'launch', staff)
    engine.fire(campaign, 'advance', staff, override=True, reason='负载测试：直接进入巩固提高阶段')
    return '货运处 without the demo history: 2 union staff, the auditor, a campaign in consolidation'


def make_workload(branches=8, leaders=26, teams_per_leader=6, seed=1):
    """Create `branches` branches, `leaders` team leaders each leading `teams_per_leader` teams spread over
    the branches, and one participation per team. Returns a Workload."""
    rng = random.Random(seed)
    unit = Unit.get(Unit.code == 'HY')
    campaign = Campaign.select().where(Campaign.unit == unit).order_by(Campaign.id.desc()).get()
    requirements = {stage: list(Requirement.select().where(Requirement.campaign == campaign, Requirement.stage == stage,
                                                           Requirement.active == True)  # noqa: E712
                                .order_by(Requirement.position)) for stage in ('popularization', 'consolidation')}
    work = Workload()
    with database.atomic():
        people = _organisation(unit, branches, leaders, teams_per_leader, rng, work)
        for i, (team, leader, chair, secretary) in enumerate(people):
            opening = OPENINGS[i % len(OPENINGS)]
            story = TeamStory(team, leader, chair, secretary, campaign, requirements, rng)
            work.participation_ids.append(story.play(opening).id)
            work.openings[opening] = work.openings.get(opening, 0) + 1
    return work


def _organisation(unit, branches, leaders, teams_per_leader, rng, work):
    """Branches with a chair and a secretary each; teams handed round-robin to the leaders, so every leader's
    teams sit in several branches. Returns [(team, leader, chair, secretary)]."""
    password_hash = org.hash_password(PASSWORD)
    names = _names(rng)

    def user(username):
        return User.create(username=username, display_name=next(names), password_hash=password_hash)

    reviewers = []
    for b in range(1, branches + 1):
        branch = Branch.create(unit=unit, name=f'负载测试第{b}分会')
        chair, secretary = user(f'load_chair{b}'), user(f'load_secretary{b}')
        org.assign_role(chair, 'branch_chair', branch=branch)
        org.assign_role(secretary, 'party_secretary', branch=branch)
        work.chairs.append(chair.username)
        work.secretaries.append(secretary.username)
        reviewers.append((branch, chair, secretary))
        work.branch_ids.append(branch.id)
    if branches > 1:      # each chair is also deputy chair of the next branch: two people review every branch
        for (_, chair, _), (branch, _, _) in zip(reviewers, reviewers[1:] + reviewers[:1]):
            org.assign_role(chair, 'branch_chair', branch=branch)
    leader_rows = [user(f'load_leader{n:02d}') for n in range(1, leaders + 1)]
    work.leaders = [u.username for u in leader_rows]
    people = []
    for i in range(leaders * teams_per_leader):
        branch, chair, secretary = reviewers[i % branches]
        leader = leader_rows[i % leaders]
        team = Team.create(branch=branch, name=f'负载测试班组{i + 1:03d}')
        org.assign_role(leader, 'team_leader', team=team)
        org.add_member(team, leader.display_name, f'LD{i + 1:05d}', user=leader)
        people.append((team, leader, chair, secretary))
    return people


def _names(rng):
    taken = set(User.select(User.display_name).tuples())
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if (name,) not in taken:
            taken.add((name,))
            yield name


class TeamStory:
    """Lays down one team's participation up to its opening state, step by step through the engine."""

    def __init__(self, team, leader, chair, secretary, campaign, requirements, rng):
        self.team, self.leader, self.chair, self.secretary = team, leader, chair, secretary
        self.campaign, self.requirements, self.rng = campaign, requirements, rng
        self.p = None

    def fire(self, event, actor, **kw):
        self.p = engine.fire(self.p, event, actor, **kw)

    def evidence(self, stage, count=None):
        for requirement in self.requirements[stage][:count]:
            engine.record_evidence(self.p, requirement.id, self.leader,
                                   text=f'{self.team.name}：{requirement.title_zh}，已按要求落实（开局材料）。')

    def stage(self, stage, until):
        """Evidence, submission, approval, co-signature — stopping at `until`."""
        if until == 'empty':
            return
        self.evidence(stage, count=self.rng.randint(2, 4) if until == 'partial' else None)
        if until == 'partial':
            return
        self.fire('submit_stage', self.leader)
        if until == 'submitted':
            return
        if until == 'returned':
            failed = self.rng.sample(self.requirements[stage], self.rng.choice([1, 2]))
            self.fire('return_stage', self.chair, reason=RETURN_REASON,
                      payload={'requirement_ids': [r.id for r in failed]})
            return
        self.fire('approve_stage', self.chair)
        if until == 'cosign':
            return
        self.fire('cosign_stage', self.secretary)

    def play(self, opening):
        self.p = engine.create('participation', self.leader, {'team_id': self.team.id,
                                                              'campaign_id': self.campaign.id})
        if opening == 'requested':
            return self.p
        self.fire('approve_enrolment', self.chair)
        stage, until = opening.split('_')
        if stage == 'pop':
            self.stage('popularization', until)
            return self.p
        self.stage('popularization', 'reached')
        self.fire('start_next_stage', self.leader)
        self.stage('consolidation', until)
        return self.p
