"""A writer for tests/test_reliability_crashes.py, run as its own process and killed with SIGKILL at a random
moment: it walks the participations, applications and innovation results of the teams named 崩溃班…
through their workflows as fast as it can — enrolments, evidence edits with attachments, submissions,
returns, approvals, recommendations, withdrawals, new records, now and then an advance of the campaign —
every step through the engine.

    python -u tests/reliability_writer.py DATABASE_URL SEED

stdout, one line per step: `b TYPE ID EVENT` before it, then `ok` (committed) or `no` (refused by the engine,
nothing written). The first line is `ready`."""
import random
import sys

import engine
from engine.errors import EngineError
from models import (Application, Attachment, Campaign, Evidence, InnovationResult, Participation, Requirement,
                    RoleAssignment, Team, User, open_database)
from workflows.stages import next_stage

TEAM_PREFIX = '崩溃班'
MAX_INNOVATIONS = 30
MAX_APPLICATIONS = 30

PARTICIPATION = {
    # state: [(event or 'edit', who, weight)]
    'requested': [('approve_enrolment', 'chair', 3), ('return_enrolment', 'chair', 1),
                  ('reject_enrolment', 'chair', .3)],
    'enrolment_returned': [('resubmit_enrolment', 'leader', 1)],
    'rejected': [('re_enrol', 'leader', 1)],
    'withdrawn': [('re_enrol', 'leader', 1)],
    'in_progress': [('edit', 'leader', 4), ('submit_stage', 'leader', 1.5), ('withdraw', 'leader', .1)],
    'stage_returned': [('edit', 'leader', 4), ('submit_stage', 'leader', 1.5), ('withdraw', 'leader', .1)],
    'submitted': [('return_stage', 'chair', 2), ('approve_stage', 'chair', .5), ('withdraw', 'leader', .1)],
    'awaiting_cosign': [('cosign_stage', 'staff', 1), ('decline_cosign', 'staff', 1)],
    'stage_reached': [('start_next_stage', 'leader', 1), ('withdraw', 'leader', .3)],
}
INNOVATION = {
    'draft': [('submit', 'leader', 3), ('withdraw', 'leader', .2)],
    'returned': [('submit', 'leader', 3), ('withdraw', 'leader', .2)],
    'submitted': [('approve', 'chair', 1), ('return', 'chair', 2), ('reject', 'chair', .3)],
}
APPLICATION = {
    'draft': [('submit', 'leader', 3), ('withdraw', 'leader', .2)],
    'returned': [('submit', 'leader', 3), ('withdraw', 'leader', .2)],
    'submitted': [('recommend', 'chair', 1), ('return', 'chair', 2), ('reject', 'chair', .2)],
    'recommended': [('return', 'staff', 2), ('reject', 'staff', .2)],
}
NEEDS_REASON = {'return_enrolment', 'reject_enrolment', 'withdraw', 'return_stage', 'decline_cosign', 'return',
                'reject', 'advance', 'cosign_stage'}


class Writer:
    def __init__(self, rng):
        self.rng = rng
        self.teams = list(Team.select().where(Team.name.startswith(TEAM_PREFIX)).order_by(Team.id))
        self.leader = {r.team_id: r.user for r in RoleAssignment.select().where(
            RoleAssignment.team.in_([t.id for t in self.teams]), RoleAssignment.role == 'team_leader')}
        self.people = {'chair': User.get(User.username == 'chair1'), 'staff': User.get(User.username == 'staff')}
        self.campaign_id = Campaign.select(Campaign.id).order_by(Campaign.id).scalar()

    def step(self):
        roll = self.rng.random()
        if roll < 0.005:
            return self.advance_campaign()
        if roll < 0.08:
            return self.create()
        if roll < 0.25:
            return self.act(InnovationResult, 'innovation', INNOVATION)
        if roll < 0.4:
            return self.act(Application, 'application', APPLICATION)
        return self.act(Participation, 'participation', PARTICIPATION)

    def who(self, role, record):
        return self.leader[record.team_id] if role == 'leader' else self.people[role]

    def act(self, model, otype, table):
        records = list(model.select().where(model.team.in_([t.id for t in self.teams]),
                                            model.state.in_(list(table))))
        if not records:
            return self.create()
        record = self.rng.choice(records)
        options = table[record.state]
        event, role, _ = self.rng.choices(options, weights=[w for _, _, w in options])[0]
        if event == 'edit':
            return self.edit(record)
        reason = f'理由{self.rng.randrange(10**6)}' if event in NEEDS_REASON else None
        payload = self.returned_items(record) if event in ('return_stage', 'decline_cosign') else None
        return (otype, record.id, event, lambda: engine.fire(record, event, self.who(role, record), reason=reason,
                                                             payload=payload))

    def returned_items(self, record):
        ids = [e.requirement_id for e in Evidence.select(Evidence.requirement).join(Requirement).where(
            Evidence.participation == record, Requirement.stage == record.stage)]
        return {'requirement_ids': self.rng.sample(ids, self.rng.randint(1, len(ids)))} if ids else {}

    def edit(self, record):
        """Set a text, add a file or remove one, on an item of the current stage that is open for editing."""
        requirements = list(Requirement.select().where(
            Requirement.campaign == record.campaign_id, Requirement.stage == record.stage,
            Requirement.active == True))  # noqa: E712
        locked = {e.requirement_id for e in Evidence.select().where(Evidence.participation == record,
                                                                    Evidence.status.not_in(['draft', 'returned']))}
        open_ = [r for r in requirements if r.id not in locked] or requirements
        requirement = self.rng.choice(open_)
        leader, roll = self.leader[record.team_id], self.rng.random()
        attachments = [a.id for a in Attachment.select(Attachment.id).join(Evidence).where(
            Evidence.participation == record, Evidence.requirement == requirement)]
        if roll < 0.15 and attachments:
            kw = {'remove_attachment_ids': [self.rng.choice(attachments)]}
        elif roll < 0.4:
            data = self.rng.randbytes(self.rng.randint(1, 20000))
            kw = {'add_files': [(f'材料{self.rng.randrange(10**6)}.pdf', data)]}
        else:
            kw = {'text': f'佐证材料 {self.rng.randrange(10**9)} ' * self.rng.randint(1, 50)}
        return ('participation', record.id, 'edit_evidence',
                lambda: engine.record_evidence(record, requirement.id, leader, **kw))

    def create(self):
        """Enrol a team that has no participation yet, or else draft an application (learning_team tier, some
        year: a year taken is refused by the unique index) or register an innovation result, up to a cap."""
        enrolled = {p.team_id for p in Participation.select(Participation.team)}
        waiting = [t for t in self.teams if t.id not in enrolled]
        team = self.rng.choice(waiting or self.teams)
        leader, common = self.leader[team.id], {'team_id': team.id, 'campaign_id': self.campaign_id}
        if waiting:
            return 'participation', None, 'enrol', lambda: engine.create('participation', leader, common)
        if self.rng.random() < 0.5 and Application.select().count() < MAX_APPLICATIONS:
            fields = {**common, 'year': self.rng.randint(2026, 2035), 'tier': 'learning_team', 'statement': '申报'}
            return 'application', None, 'create', lambda: engine.create('application', leader, fields)
        if InnovationResult.select().count() < MAX_INNOVATIONS:
            fields = {**common, 'year': 2025, 'title': f'成果{self.rng.randrange(10**6)}', 'topic': 'efficiency',
                      'summary': '缩短装车时间'}
            return 'innovation', None, 'create', lambda: engine.create('innovation', leader, fields)
        return self.act(Participation, 'participation', PARTICIPATION)

    def advance_campaign(self):
        campaign = Campaign.get_by_id(self.campaign_id)
        if next_stage(campaign.state) is None:
            return self.act(Participation, 'participation', PARTICIPATION)
        return ('campaign', campaign.id, 'advance',
                lambda: engine.fire(campaign, 'advance', self.people['staff'], reason='处工会决定推进', override=True))


def main(url, seed):
    open_database(url)
    writer = Writer(random.Random(seed))
    print('ready')
    while True:
        otype, oid, event, run = writer.step()
        print(f'b {otype} {oid} {event}')
        try:
            run()
        except EngineError:
            print('no')
        else:
            print('ok')


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
