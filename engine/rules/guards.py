"""Named guards: each returns None when it passes, or a Reason saying why not."""
import datetime

from peewee import fn

from models import (Application, Branch, CommendationDecision, Evidence, Objection, Participation,
                    Requirement, Score, Team, TIERS)
from workflows.settings import TIER_LABELS, campaign_setting
from workflows.stages import STAGE_LABELS, STAGES, next_stage, stage_index

from engine.rules.reasons import Reason

GUARDS = {}
TAKING_PART = ('in_progress', 'submitted', 'awaiting_cosign', 'stage_returned', 'stage_reached')
HOLDS_TIER = ('approved', 'publicized', 'notice_closed', 'commended')


def guard(fn):
    GUARDS[fn.__name__] = fn
    return fn


def setting(ctx, key):
    return campaign_setting(ctx.campaign.settings, key)


def stage_zh(stage):
    return STAGE_LABELS[stage]['zh']


# --- campaign -----------------------------------------------------------------------------------

@guard
def has_requirements_for_every_stage(ctx):
    missing = [s for s in STAGES if not Requirement.select().where(
        Requirement.campaign == ctx.record, Requirement.stage == s, Requirement.active == True).exists()]  # noqa: E712
    if missing:
        return Reason('has_requirements_for_every_stage',
                      '以下阶段没有创建要求：' + '、'.join(stage_zh(s) for s in missing),
                      'No requirements defined for: ' + ', '.join(missing))


def participation_by_branch(campaign):
    """{branch: (teams taking part, teams)} for the campaign's unit: counted in the database, a few rows back
    however many teams the unit has."""
    branches = list(Branch.select().where(Branch.unit == campaign.unit_id))
    ids = [b.id for b in branches] or [0]
    teams = dict(Team.select(Team.branch, fn.COUNT(Team.id)).where(Team.branch.in_(ids))
                 .group_by(Team.branch).tuples())
    taking = dict(Participation.select(Team.branch, fn.COUNT(Participation.id)).join(Team)
                  .where(Participation.campaign == campaign, Participation.state.in_(TAKING_PART),
                         Team.branch.in_(ids))      # lets PostgreSQL find the teams by branch, not scan them all
                  .group_by(Team.branch).tuples())
    return {b: (taking.get(b.id, 0), teams.get(b.id, 0)) for b in branches}


@guard
def is_stage_target_met(ctx):
    stage = ctx.record.state
    target = setting(ctx, 'targets').get(stage, 0)
    by_branch = participation_by_branch(ctx.record)
    taking = sum(t for t, _ in by_branch.values())
    total = sum(n for _, n in by_branch.values())
    misses = []
    if total == 0 or taking * 100 < target * total:
        misses.append((ctx.unit.name, taking, total))
    misses += [(b.name, t, n) for b, (t, n) in by_branch.items() if n and t * 100 < target * n]
    if misses:
        zh = '；'.join(f'{name}参与率{_pct(t, n)}%（{t}/{n}）' for name, t, n in misses)
        en = '; '.join(f'{name} {_pct(t, n)}% ({t}/{n})' for name, t, n in misses)
        return Reason('is_stage_target_met', f'{stage_zh(stage)}目标为{target}%，未达到：{zh}',
                      f'{stage} target is {target}%, missed by: {en}')


def _pct(part, whole):
    return round(part * 100 / whole) if whole else 0


# --- participation --------------------------------------------------------------------------------

@guard
def is_campaign_running(ctx):
    if ctx.campaign.state not in STAGES:
        return Reason('is_campaign_running', '创建活动未在进行中（未启动或已结束）',
                      'The campaign is not running (not launched or closed)')


@guard
def has_campaign_reached_stage(ctx):
    stage = ctx.record.stage
    if stage_index(ctx.campaign.state) < stage_index(stage):
        return Reason('has_campaign_reached_stage', f'创建活动尚未进入{stage_zh(stage)}，暂不能提交验收',
                      f'The campaign has not reached the {stage} stage yet')


@guard
def has_evidence_for_every_requirement(ctx):
    requirements = (Requirement.select().where(Requirement.campaign == ctx.record.campaign_id,
                                               Requirement.stage == ctx.record.stage, Requirement.active == True)  # noqa
                    .order_by(Requirement.position))
    present = {e.requirement_id for e in Evidence.select().where(Evidence.participation == ctx.record)
               if e.is_present}
    missing = [r for r in requirements if r.id not in present]
    if missing:
        return Reason('has_evidence_for_every_requirement',
                      '以下要求尚无佐证材料：' + '、'.join(r.title_zh for r in missing),
                      'No evidence yet for: ' + ', '.join(r.title_en for r in missing))


@guard
def has_next_stage(ctx):
    if next_stage(ctx.record.stage) is None:
        return Reason('has_next_stage', '已完成最后一个阶段', 'This is the last stage')


# --- application ----------------------------------------------------------------------------------

@guard
def is_application_window_open(ctx):
    window = setting(ctx, 'application_window')
    if not window:
        return None
    today = ctx.now.date().isoformat()
    if not window[0] <= today <= window[1]:
        return Reason('is_application_window_open', f'不在申报时间内（{window[0]} 至 {window[1]}）',
                      f'Applications are accepted from {window[0]} to {window[1]}')


def previous_titles(team_id, year):
    return {a.tier for a in Application.select(Application.tier).where(
        Application.team == team_id, Application.year < year, Application.state == 'commended')}


@guard
def is_eligible_for_tier(ctx):
    app = ctx.record
    rule = setting(ctx, 'eligibility')[app.tier]
    part = Participation.get_or_none(Participation.team == app.team_id, Participation.campaign == app.campaign_id)
    reached = stage_index(part.reached_stage) if part and part.reached_stage else -1
    if reached >= stage_index(rule['stage']):
        return None
    if rule.get('or_title') and rule['or_title'] in previous_titles(app.team_id, app.year):
        return None
    tier_zh = TIER_LABELS[app.tier]['zh']
    alt_zh = f'或往年获得「{TIER_LABELS[rule["or_title"]]["zh"]}」称号' if rule.get('or_title') else ''
    alt_en = f' or an earlier {rule["or_title"]} title' if rule.get('or_title') else ''
    return Reason('is_eligible_for_tier', f'申报「{tier_zh}」需达到{stage_zh(rule["stage"])}{alt_zh}',
                  f'{app.tier} needs the {rule["stage"]} stage reached{alt_en}')


@guard
def is_rubric_complete(ctx):
    rubric = {c['code']: c for c in setting(ctx, 'rubric')}
    given = ctx.payload.get('criteria', {})
    problems = [f'{c["zh"]}未评分' for code, c in rubric.items() if code not in given]
    problems += [f'未知评分项 {code}' for code in given if code not in rubric]
    problems += [f'{rubric[code]["zh"]}应在0–{rubric[code]["max"]}分之间' for code, v in given.items()
                 if code in rubric and not 0 <= v <= rubric[code]['max']]
    if problems:
        return Reason('is_rubric_complete', '评分表不完整：' + '；'.join(problems),
                      'The score sheet is incomplete or out of range')


@guard
def has_enough_scores(ctx):
    needed = setting(ctx, 'min_judges')
    have = Score.select().where(Score.application == ctx.record).count()
    if have < needed:
        return Reason('has_enough_scores', f'需要至少{needed}位评委评分，目前{have}位',
                      f'At least {needed} judges must score it; {have} have')


def target_tier(ctx):
    return ctx.payload.get('tier') or ctx.record.tier


@guard
def is_within_tier_quota(ctx):
    tier = target_tier(ctx)
    quota = setting(ctx, 'quotas').get(tier)
    if quota is None:
        return None
    taken = Application.select().where(Application.campaign == ctx.record.campaign_id,
                                       Application.year == ctx.record.year, Application.tier == tier,
                                       Application.state.in_(HOLDS_TIER)).count()
    if taken >= quota:
        return Reason('is_within_tier_quota', f'「{TIER_LABELS[tier]["zh"]}」名额已满（{quota}个）',
                      f'The {tier} quota of {quota} is used up')


@guard
def is_lower_tier(ctx):
    tier = ctx.payload.get('tier')
    if tier not in TIERS or TIERS.index(tier) >= TIERS.index(ctx.record.tier):
        return Reason('is_lower_tier', '只能降为更低的等级', 'Can only downgrade to a lower tier')


def _objection(ctx):
    return Objection.get_or_none(Objection.id == ctx.payload.get('objection_id'),
                                 Objection.application == ctx.record)


@guard
def is_objection_open(ctx):
    objection = _objection(ctx)
    if objection is None or objection.resolution is not None:
        return Reason('is_objection_open', '该异议不存在或已处理', 'No such open objection')


@guard
def is_notice_period_over(ctx):
    ends = ctx.record.notice_ends_at
    if ends is None or ctx.now < ends:
        return Reason('is_notice_period_over', f'公示期尚未结束（至 {ends:%Y-%m-%d %H:%M} UTC）' if ends else '尚未公示',
                      'The public notice period has not ended')


@guard
def has_no_open_objections(ctx):
    open_count = Objection.select().where(Objection.application == ctx.record,
                                          Objection.resolution.is_null()).count()
    if open_count:
        return Reason('has_no_open_objections', f'尚有{open_count}条异议未处理',
                      f'{open_count} objection(s) still open')


@guard
def is_decision_of_unit(ctx):
    decision = CommendationDecision.get_or_none(CommendationDecision.id == ctx.payload.get('decision_id'))
    if decision is None or decision.unit_id != ctx.place.unit_id or decision.year != ctx.record.year:
        return Reason('is_decision_of_unit', '表彰决定不存在或不属于本单位本年度',
                      'No such commendation decision for this unit and year')


# --- innovation result ----------------------------------------------------------------------------

@guard
def has_result_summary(ctx):
    if not (ctx.record.summary or '').strip():
        return Reason('has_result_summary', '请填写成果简介', 'Write a summary of the result first')


@guard
def is_release_date_reached(ctx):
    configured = setting(ctx, 'innovation_release_date')
    release = (datetime.date.fromisoformat(configured) if configured
               else datetime.date(ctx.record.year, 11, 1))
    if ctx.now.date() < release:
        return Reason('is_release_date_reached', f'成果发布日为{release.isoformat()}',
                      f'Results are released on {release.isoformat()}')


