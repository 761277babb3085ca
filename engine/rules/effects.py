"""Named effects: what a transition changes besides the state. They run inside the engine's transaction
as the machine's `after` callbacks, so a failure rolls everything back."""
import datetime

from models import Evidence, Objection, Requirement, Score
from workflows.requirements import default_requirement_rows
from workflows.settings import campaign_setting
from workflows.stages import next_stage

from engine.errors import BadInput

EFFECTS = {}


def effect(fn):
    EFFECTS[fn.__name__] = fn
    return fn


def stage_evidence(ctx):
    stage_requirements = Requirement.select(Requirement.id).where(
        Requirement.campaign == ctx.record.campaign_id, Requirement.stage == ctx.record.stage)
    return Evidence.select().where(Evidence.participation == ctx.record,
                                   Evidence.requirement.in_(stage_requirements))


def _set_status(ctx, status, where_status, ids=None):
    query = Evidence.update(status=status).where(Evidence.id.in_(stage_evidence(ctx).select(Evidence.id)),
                                                 Evidence.status.in_(where_status))
    if ids is not None:
        query = query.where(Evidence.requirement.in_(ids))
    return query.execute()


@effect
def copy_default_requirements(ctx):
    for row in default_requirement_rows():
        Requirement.create(campaign=ctx.record, **row)


@effect
def lock_stage_evidence(ctx):
    _set_status(ctx, 'submitted', ('draft', 'returned'))
    ctx.record.submitted_at = ctx.now


@effect
def return_failed_items(ctx):
    """Send back only the failed items; the others are accepted and stay locked."""
    stage_ids = {e.requirement_id for e in stage_evidence(ctx)}
    failed = set(ctx.payload.get('requirement_ids') or stage_ids)
    unknown = failed - stage_ids
    if unknown:
        raise BadInput(f'退回的要求不属于本阶段: {sorted(unknown)}', {'requirement_ids': sorted(unknown)})
    comments = ctx.payload.get('comments') or {}
    for evidence in stage_evidence(ctx).where(Evidence.requirement.in_(failed)):
        evidence.status = 'returned'
        evidence.review_comment = comments.get(str(evidence.requirement_id), ctx.reason)
        evidence.save()
    _set_status(ctx, 'accepted', ('submitted',))


@effect
def accept_stage_evidence(ctx):
    _set_status(ctx, 'accepted', ('draft', 'submitted', 'returned'))
    ctx.record.reached_stage = ctx.record.stage


@effect
def begin_next_stage(ctx):
    ctx.record.stage = next_stage(ctx.record.stage)


@effect
def unlock_evidence(ctx):
    _set_status(ctx, 'draft', ('submitted',))


@effect
def stamp_submitted(ctx):
    ctx.record.submitted_at = ctx.now


@effect
def record_score(ctx):
    criteria = ctx.payload['criteria']
    total = round(sum(criteria.values()), 2)
    existing = Score.get_or_none(Score.application == ctx.record, Score.judge == ctx.actor)
    if existing:
        existing.criteria, existing.total, existing.scored_at = criteria, total, ctx.now
        existing.save()
    else:
        Score.create(application=ctx.record, judge=ctx.actor, criteria=criteria, total=total, scored_at=ctx.now)
    totals = [s.total for s in Score.select(Score.total).where(Score.application == ctx.record)]
    ctx.record.total_score = round(sum(totals) / len(totals), 2)


@effect
def apply_downgrade(ctx):
    ctx.record.tier = ctx.payload['tier']


@effect
def start_notice(ctx):
    days = campaign_setting(ctx.campaign.settings, 'notice_days')
    ctx.record.notice_ends_at = ctx.now + datetime.timedelta(days=days)


@effect
def record_objection(ctx):
    objection = Objection.create(application=ctx.record, lodged_by=ctx.actor, text=ctx.reason, lodged_at=ctx.now)
    ctx.payload['objection_id'] = objection.id


def _resolve_objection(ctx, resolution):
    Objection.update(resolution=resolution, resolved_at=ctx.now).where(
        Objection.id == ctx.payload['objection_id']).execute()


@effect
def dismiss_objection(ctx):
    _resolve_objection(ctx, 'dismissed')


@effect
def uphold_objection(ctx):
    _resolve_objection(ctx, 'upheld')


@effect
def attach_decision(ctx):
    ctx.record.decision = ctx.payload['decision_id']


@effect
def stamp_published(ctx):
    ctx.record.published_at = ctx.now
