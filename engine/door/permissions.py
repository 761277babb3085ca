"""The one place that decides who may fire what, and who may see what at all: rules from the workflow
definitions matched against the actor's role assignments and the object's place in the organisation."""
from models import Member, RoleAssignment, Team
from workflows.rules import PUBLIC_VIEW, VIEW

from engine import security_log
from engine.door.context import ActionContext, place_of
from engine.errors import NotPermitted, not_visible


def in_scope(scope, assignment, place):
    if scope == 'global':
        return True
    if scope == 'unit':
        return assignment.unit_id is not None and assignment.unit_id == place.unit_id
    if scope == 'branch':
        return assignment.branch_id is not None and assignment.branch_id == place.branch_id
    if scope == 'team':
        return assignment.team_id is not None and assignment.team_id == place.team_id
    return False


def is_chairs_own_team(team_id):
    """Some chair of the team's branch leads the team or belongs to it (at most two queries: it is asked for
    every waiting item of a branch overview)."""
    chairs = (RoleAssignment.select(RoleAssignment.user)
              .join(Team, on=(Team.branch == RoleAssignment.branch))
              .where(RoleAssignment.role == 'branch_chair', Team.id == team_id))
    leads = RoleAssignment.select().where(RoleAssignment.role == 'team_leader', RoleAssignment.team == team_id,
                                          RoleAssignment.user.in_(chairs))
    return leads.exists() or Member.select().where(Member.team == team_id, Member.user.in_(chairs)).exists()


def _chair_team_reviewer(ctx):
    return ctx.unit.setting('chair_team_reviewer', 'party_secretary')


CONDITIONS = {
    'is_not_chairs_own_team': lambda ctx: not ctx.is_own_team,
    'is_routed_to_secretary': lambda ctx: (_chair_team_reviewer(ctx) == 'party_secretary'
                                           and is_chairs_own_team(ctx.place.team_id)),
    'is_routed_to_union': lambda ctx: (_chair_team_reviewer(ctx) == 'union_staff'
                                       and is_chairs_own_team(ctx.place.team_id)),
    'needs_cosign': lambda ctx: bool(ctx.unit.setting('secretary_cosigns_stages', False))
    and ctx.role != 'party_secretary',
}


def matching_rule(rules, ctx):
    """The first rule the actor satisfies, or None. Override rules are tried last-resort only when no
    ordinary rule matches."""
    if not ctx.actor.active:
        return None
    for rule in sorted(rules, key=lambda r: bool(r.get('override'))):
        for assignment in ctx.assignments:
            if rule['role'] not in ('*', assignment.role):
                continue
            if rule['role'] == '*' and assignment.role in ('auditor', 'system'):
                continue
            if not in_scope(rule['scope'], assignment, ctx.place):
                continue
            if rule.get('when') and not CONDITIONS[rule['when']](ctx):
                continue
            return rule
    return None


def authorize(transition, ctx):
    """Set ctx.role for the actor or raise NotPermitted (logged as a refused authorisation)."""
    if transition.review and ctx.is_own_team:
        refuse(ctx, transition.event, '不能审批本人所在班组的事项 (you cannot review your own team)')
    rule = matching_rule(transition.allowed, ctx)
    if rule is None:
        refuse(ctx, transition.event, f'无权执行「{transition.label["zh"]}」 '
                                      f'(not permitted to {transition.label["en"].lower()})')
    ctx.role = rule['role'] if rule['role'] != '*' else _any_role_in_unit(ctx)
    ctx.overriding = bool(rule.get('override'))
    return rule


def _any_role_in_unit(ctx):
    for a in ctx.assignments:
        if in_scope('unit', a, ctx.place):
            return a.role
    return None


def may_fire_somewhere(workflow, event, ctx):
    """Whether any transition of `event` would let the actor act (to tell 403 from 409): a rule admits them
    and it is not a review of their own team."""
    return any(matching_rule(t.allowed, ctx) for t in workflow.transitions
               if t.event == event and not (t.review and ctx.is_own_team))


def _is_public(record):
    from engine.door.kinds import kind_of
    kind = kind_of(record)
    if kind is None:                           # a team or branch page is never public
        return False
    return record.state in kind.definition(record.workflow_version).public_states


def may_view(ctx):
    """Whether the actor may see ctx.record at all: its page, evidence and history (VIEW), or anyone of its unit
    while it is in a public state (PUBLIC_VIEW). A record not yet created is seen as its team is."""
    if matching_rule(VIEW, ctx) is not None:
        return True
    return getattr(ctx.record, 'id', None) is not None and _is_public(ctx.record) and \
        matching_rule(PUBLIC_VIEW, ctx) is not None


def _named(record):
    """(kind, id) by which a refusal names the record: a record not yet created by its team (or unit)."""
    if getattr(record, 'id', None) is None:
        return ('team', record.team_id) if hasattr(record, 'team_id') else ('unit', record.unit_id)
    from engine.door.kinds import kind_of
    kind = kind_of(record)
    return (kind.name if kind else type(record).__name__.lower()), record.id


def refuse(ctx, event, message, name=None):
    """Refuse `event` (logged): 403 with `message` to who may see the record, and to who may not, exactly the
    answer for a record that does not exist (errors.NotVisible) — the only place that tells the two apart.
    `name`: (kind, id) of what the person asked for, when that is not the record itself (an attachment)."""
    hidden = ctx.record is not None and not may_view(ctx)
    kind, ident = name or (_named(ctx.record) if ctx.record is not None else (None, None))
    security_log.event(event, 'hidden' if hidden else 'refused', actor=ctx.actor,
                       obj=f'{kind}#{ident}' if kind else None, reason=message)
    err = not_visible(kind, ident) if hidden else NotPermitted(message)
    err.logged = True
    raise err


def hide_unless_visible(actor, record, event):
    """Refuse, as not found, an actor who may not see `record` (a team named in a new record, an object acted
    on with an event it does not know)."""
    ctx = ActionContext(record=record, workflow=None, actor=actor, place=place_of(record))
    if not may_view(ctx):
        refuse(ctx, event, '无权查看 (not permitted to view this)')
