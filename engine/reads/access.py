"""Read access and "what may I do here": the questions pages ask before they show data or buttons.
The answers come from the same rules the engine enforces when an event is fired; an object the person may not
see is, for them, an object that does not exist (find_visible)."""
from dataclasses import dataclass
from functools import cached_property

from models import Attachment, Branch, Evidence, Participation, Team

from engine import clock
from engine.door.context import ActionContext, place_of
from engine.errors import not_found
from engine.rules.guards import GUARDS
from engine.door.permissions import matching_rule, may_view, refuse
from engine.door.kinds import KINDS
from engine.door.runtime import load_object, object_type_of


def _ctx(record, actor, shared=None):
    ctx = ActionContext(record=record, workflow=None, actor=actor, place=place_of(record))
    if shared is not None:
        shared.lend(ctx)
    return ctx


class SharedFacts:
    """Facts that the action lists of many records for one actor share (the inbox): the actor's roles, the
    units and campaigns met. engine.door.context.ActionContext looks each up once per context, as cached properties;
    a context made here starts with what earlier ones already looked up."""
    KEYS = {'_roles': lambda ctx: None, 'unit': lambda ctx: ctx.place.unit_id,
            'campaign': lambda ctx: getattr(ctx.record, 'campaign_id', None)}

    def __init__(self):
        self.known = {}
        self.keys = [(name, key) for name, key in self.KEYS.items()
                     if isinstance(ActionContext.__dict__.get(name), cached_property)]

    def lend(self, ctx):
        for name, key in self.keys:
            value = self.known.get((name, key(ctx)), self)
            if value is not self:
                ctx.__dict__[name] = value

    def keep(self, ctx):
        for name, key in self.keys:
            if name in ctx.__dict__:
                self.known[(name, key(ctx))] = ctx.__dict__[name]


def can_view(actor, record):
    return may_view(_ctx(record, actor))


def require_view(actor, record, name=None):
    """`record` if `actor` may see it; otherwise the answer for a record that does not exist (404, logged)."""
    ctx = _ctx(record, actor)
    if not may_view(ctx):
        refuse(ctx, 'view', '无权查看 (not permitted to view this)', name)
    return record


PLACES = {'team': Team, 'branch': Branch}


def find_visible(actor, kind, ident):
    """The object `kind` #`ident` (a workflow object type, 'team' or 'branch') if it exists and `actor` may see
    it; otherwise NotFound, the same (status and words) whether it is missing or not theirs to see. Every page and
    API route that names an object loads it here first, before anything else about it is checked or revealed."""
    if kind in KINDS:
        record = load_object(kind, ident)
    elif kind in PLACES:
        record = PLACES[kind].get_or_none(PLACES[kind].id == ident)
    else:
        record = None
    if record is None:
        raise not_found(kind, ident)
    return require_view(actor, record)


def find_visible_attachment(actor, attachment_id):
    """An attachment whose participation `actor` may see; otherwise the same NotFound as for a missing one."""
    row = Attachment.get_or_none(Attachment.id == attachment_id)
    if row is None:
        raise not_found('attachment', attachment_id)
    participation = Participation.select().join(Evidence).where(Evidence.id == row.evidence_id).get()
    require_view(actor, participation, name=('attachment', attachment_id))
    return row


@dataclass
class Action:
    """An event the actor may fire on a record right now (guards are checked when it is fired)."""
    event: str
    label: dict
    requires_reason: bool
    override: bool
    payload: str
    review: bool
    todo: bool         # a pending task for this actor (not an override, not an occasional step)
    blocked: list      # reasons of guards that would refuse it now (empty: it would pass)


def actions_for(actor, record, with_guards=True, shared=None):
    """The events `actor` may fire on `record` now; `shared` (SharedFacts): lookups to share with other calls."""
    workflow = KINDS[object_type_of(record)].definition(record.workflow_version)
    ctx = _ctx(record, actor, shared)
    ctx.workflow = workflow
    actions = []
    for event in workflow.events_from(record.state):
        transition = workflow.candidates(record.state, event)[0]
        if transition.review and ctx.is_own_team:
            continue
        rule = matching_rule(transition.allowed, ctx)
        if rule is None:
            continue
        blocked = []
        if with_guards and not transition.payload:
            ctx.role, ctx.now = rule['role'], clock.now()
            blocked = [r for r in (GUARDS[g.name](ctx) for g in transition.guards) if r is not None]
        actions.append(Action(event, transition.label, 'reason' in transition.requires or bool(rule.get('override')),
                              bool(rule.get('override')), transition.payload, transition.review,
                              transition.todo and not rule.get('override'), blocked))
    if shared is not None:
        shared.keep(ctx)
    return actions


def require_auditor(actor):
    """Only auditors read the global log (everyone else sees histories through the objects they may view)."""
    from workflows.rules import AUDIT_LOG
    from engine.door.context import Place
    ctx = ActionContext(record=None, workflow=None, actor=actor, place=Place(None))
    if matching_rule(AUDIT_LOG, ctx) is None:
        refuse(ctx, 'read_audit_log', '仅审计人员可查看全局审计日志 (auditors only)')
