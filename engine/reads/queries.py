"""Named read queries the pages need: a reviewer's inbox, a team's records, an object's timeline."""
import datetime
from dataclasses import dataclass

from peewee import JOIN, fn
from models import Application, AuditPersonal, AuditRecord, Branch, Campaign, RoleAssignment, Team, User
from workflows.settings import campaign_setting

from engine.chain import audit
from engine import clock
from engine.reads.access import SharedFacts, actions_for
from engine.door.kinds import KINDS

INBOX_ROLES = ('branch_chair', 'party_secretary', 'union_staff')


@dataclass
class InboxItem:
    object_type: str
    record: object
    team: object
    waiting_since: datetime.datetime
    overdue: bool
    actions: list


def _waiting_states(workflow, roles):
    """States from which someone holding `roles` could decide something (not the team's own steps), and
    the events that decide it."""
    states, events = set(), set()
    for t in workflow.transitions:
        rule_roles = {r['role'] for r in t.allowed}
        if 'team_leader' in rule_roles or '*' in rule_roles:
            continue
        if rule_roles & roles:
            states.update(t.sources)
            events.add(t.event)
    return states, events


def _scoped(model, assignments):
    """The model's records in the branches and units of `assignments`, found through their teams (an index
    lookup per team, however many records of the waiting states the whole installation holds)."""
    branch_ids = {a.branch_id for a in assignments if a.role in ('branch_chair', 'party_secretary')}
    unit_ids = [a.unit_id for a in assignments if a.role == 'union_staff']
    if unit_ids:
        branch_ids.update(b for (b,) in Branch.select(Branch.id).where(Branch.unit.in_(unit_ids)).tuples())
    branches = sorted(branch_ids) or [0]
    teams = Team.select(Team.id).where(Team.branch.in_(branches))
    return (model.select(model, Team, Branch).join(Team).join(Branch)
            .where(model.team.in_(teams), Team.branch.in_(branches)))


def inbox(actor):
    """What waits for `actor`, oldest first, with the actions they may take on each."""
    assignments = [a for a in RoleAssignment.select().where(RoleAssignment.user == actor)
                   if a.role in INBOX_ROLES]
    if not assignments:
        return []
    roles = {a.role for a in assignments}
    now = clock.now()
    items, campaigns, shared = [], {}, SharedFacts()
    for object_type, kind in KINDS.items():
        if not kind.owned_by_team:
            continue
        model = kind.model
        states, events = _waiting_states(kind.definition(), roles)
        if not states:
            continue
        for record in _scoped(model, assignments).where(model.state.in_(sorted(states))):
            _keep_place(record)
            actions = actions_for(actor, record, with_guards=False, shared=shared)
            # a reviewer's step waits here; the person's own steps as a team leader (withdraw …) do not count
            if any(a.todo and a.event in events for a in actions):
                reviewing = any(a.todo and a.review for a in actions)
                items.append(InboxItem(object_type, record, record.team, record.state_since,
                                       reviewing and _is_overdue(record, now, campaigns), actions))
    items.sort(key=lambda item: item.waiting_since)
    return items


def _keep_place(record):
    """Remember where the record sits from the team and branch already joined (engine.door.context.place_of reads
    it), instead of one query per record."""
    record.place_unit_id, record.place_branch_id, record.place_team_id = (
        record.team.branch.unit_id, record.team.branch_id, record.team_id)


def _is_overdue(record, now, campaigns):
    if record.campaign_id not in campaigns:
        campaigns[record.campaign_id] = Campaign.get_by_id(record.campaign_id).settings
    days = campaign_setting(campaigns[record.campaign_id], 'review_due_days')
    return now - record.state_since > datetime.timedelta(days=days)


def timeline(object_type, object_id):
    """An object's audit records, oldest first, with the actor's name (blank once erased)."""
    return audit.mark_integrity(_with_personal().where(AuditRecord.object_type == object_type,
                                                       AuditRecord.object_id == object_id)
                                .order_by(AuditRecord.seq).objects())


OWNED_BY_TEAMS = tuple((name, kind.model) for name, kind in KINDS.items() if kind.owned_by_team)


def _owners(team_ids):
    """{(object type, object id): team id} for the teams' participations, applications, innovation results."""
    owners = {}
    for object_type, model in OWNED_BY_TEAMS:
        for object_id, team_id in model.select(model.id, model.team).where(model.team.in_(team_ids)).tuples():
            owners[(object_type, object_id)] = team_id
    return owners


def _records_of(owners):
    """A condition on AuditRecord: the records of these objects (None: there are none)."""
    condition = None
    for object_type, _ in OWNED_BY_TEAMS:
        object_ids = sorted(oid for (otype, oid) in owners if otype == object_type)
        if object_ids:
            part = (AuditRecord.object_type == object_type) & AuditRecord.object_id.in_(object_ids)
            condition = part if condition is None else condition | part
    return condition


def _with_personal():
    return (AuditRecord.select(AuditRecord, AuditPersonal.actor_name, AuditPersonal.reason, AuditPersonal.erased_at)
            .join(AuditPersonal, on=(AuditPersonal.seq == AuditRecord.seq), join_type=JOIN.LEFT_OUTER))


def team_timeline(team):
    """Every record of every object of a team, oldest first."""
    condition = _records_of(_owners([team.id]))
    if condition is None:
        return []
    return audit.mark_integrity(_with_personal().where(condition).order_by(AuditRecord.seq).objects())


def teams_decisions(teams, limit=100):
    """The decisions taken on the teams' objects (not the teams' own steps), newest first, as (team, record):
    one query for all the teams, not one per team."""
    owners = _owners([t.id for t in teams] or [0])
    condition = _records_of(owners)
    if condition is None:
        return []
    by_id = {t.id: t for t in teams}
    rows = (_with_personal().where(condition, (AuditRecord.actor_role != 'team_leader')
                                   | AuditRecord.actor_role.is_null())
            .order_by(AuditRecord.seq.desc()).limit(limit).objects())
    return [(by_id[owners[(r.object_type, r.object_id)]], r) for r in rows]


def teams_led_by(actor):
    return list(Team.select().join(RoleAssignment, on=(RoleAssignment.team == Team.id))
                .where(RoleAssignment.user == actor, RoleAssignment.role == 'team_leader').order_by(Team.id))


def user_names(ids):
    return {u.id: u.display_name for u in User.select(User.id, User.display_name).where(User.id.in_(list(ids)))}


@dataclass
class LogFilter:
    object_type: str = None
    object_id: int = None
    actor: str = None          # username
    event: str = None
    since: datetime.date = None
    until: datetime.date = None


def audit_log(filters, before_seq=None, limit=50):
    """The global log, newest first, filtered; keyset-paged on seq so deep pages stay fast."""
    query = _with_personal()
    if filters.object_type:
        query = query.where(AuditRecord.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditRecord.object_id == filters.object_id)
    if filters.event:
        query = query.where(AuditRecord.event == filters.event)
    if filters.actor:
        user = User.get_or_none(User.username == filters.actor)
        query = query.where(AuditRecord.actor_id == (user.id if user else -1))
    if filters.since or filters.until:
        period = _period(filters)
        # seq + 0: a plain MIN(seq) tempts PostgreSQL to walk the whole primary key looking for the period
        seq = AuditRecord.seq + 0
        seqs = AuditRecord.select(fn.MIN(seq), fn.MAX(seq)).where(*period).tuples().first()
        if seqs[0] is None:
            return []
        # The period's records lie between these seqs: with that range the page is a walk back from its end
        # along seq, instead of a sort of every record of the period.
        query = query.where(*period, AuditRecord.seq.between(*seqs))
    if before_seq is not None:
        query = query.where(AuditRecord.seq < before_seq)
    return audit.mark_integrity(query.order_by(AuditRecord.seq.desc()).limit(limit).objects())


def _period(filters):
    """The filter's dates are China days (what the person typed), the stored times UTC."""
    conditions = []
    if filters.since:
        conditions.append(AuditRecord.occurred_at >= clock.china_day_start(filters.since))
    if filters.until:
        conditions.append(AuditRecord.occurred_at < clock.china_day_start(filters.until + datetime.timedelta(days=1)))
    return conditions


def public_notices(actor):
    """Applications under 公示 in the units the actor belongs to (anyone there may read them and object)."""
    units = {a.unit_id for a in RoleAssignment.select().where(RoleAssignment.user == actor) if a.unit_id}
    return list(Application.select(Application, Team, Branch).join(Team).join(Branch)
                .where(Branch.unit.in_(list(units) or [0]), Application.state == 'publicized')
                .order_by(Application.notice_ends_at))
