"""Reviewers: the inbox (待办), any object's detail page, acting on it, bulk approval, branch overview."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import KINDS, EngineError, actions_for, find_visible, timeline
from engine import inbox as inbox_items
from models import (Application, Campaign, CommendationDecision, InnovationResult, Objection, Participation,
                    RoleAssignment, Score, Team, TIERS, User)
from workflows.settings import campaign_setting
from workflows.stages import STAGES

from .. import diagrams
from ..forms import ActForm, parse, payload_from_form
from .common import back, me, object_url, visible
from .team import checklist

bp = Blueprint('review', __name__)

BULK_EVENTS = {('participation', 'approve_enrolment'), ('participation', 'approve_stage'),
               ('participation', 'cosign_stage'), ('application', 'recommend'), ('innovation', 'approve')}


@bp.get('/inbox')
@login_required
def inbox():
    rows = [(item, next((a for a in item.actions if a.todo and (item.object_type, a.event) in BULK_EVENTS), None))
            for item in inbox_items(me())]
    g.inbox_count = len(rows)        # the menu's count (web.helpers.inbox_count): the same list, not computed twice
    return render_template('inbox.html', rows=rows)


def detail_extra(object_type, record):
    """What the action forms and the page need beyond the record itself (its kind's template shows it)."""
    extra = {}
    if KINDS[object_type].owned_by_team:
        extra['team'] = Team.get_by_id(record.team_id)
    extra.update(DETAIL_EXTRAS[object_type](record) if object_type in DETAIL_EXTRAS else {})
    return extra


def _participation_extra(record):
    return {'items': checklist(record)}


def _application_extra(record):
    extra = {'rubric': campaign_setting(record.campaign.settings, 'rubric')}
    extra['lower_tiers'] = [t for t in TIERS if TIERS.index(t) < TIERS.index(record.tier)]
    extra['objections'] = list(Objection.select().where(Objection.application == record,
                                                        Objection.resolution.is_null()))
    extra['all_objections'] = list(Objection.select().where(Objection.application == record))
    extra['decisions'] = list(CommendationDecision.select().where(
        CommendationDecision.unit == record.campaign.unit_id, CommendationDecision.year == record.year))
    scores = list(Score.select().where(Score.application == record))
    judges = {u.id: u.display_name for u in User.select().where(User.id.in_([s.judge_id for s in scores] or [0]))}
    extra['scores'] = [(judges.get(s.judge_id), s) for s in scores]
    return extra


# kind → what its page needs beyond the record (templates/kinds/<kind>.html shows it)
DETAIL_EXTRAS = {'participation': _participation_extra, 'application': _application_extra}


@bp.get('/objects/<object_type>/<int:object_id>')
@login_required
def detail(object_type, object_id):
    record = visible(object_type, object_id)
    extra = detail_extra(object_type, record)
    return render_template('detail.html', object_type=object_type, record=record,
                           actions=actions_for(me(), record), extra=extra, timeline=timeline(object_type, object_id),
                           diagram=diagrams.mermaid(object_type, record.workflow_version, record.state))


@bp.get('/notices')
@login_required
def notices():
    """公示: the unit's applications under public notice, open to everyone in the unit."""
    from engine import public_notices
    return render_template('notices.html', applications=public_notices(me()))


@bp.get('/workflows')
@login_required
def workflow_diagrams():
    """Every workflow's diagram, drawn from its definition."""
    return render_template('workflows.html', diagrams=[(t, diagrams.workflow_of(t), diagrams.mermaid(t))
                                                       for t in KINDS])


@bp.post('/act/<object_type>/<int:object_id>')
@login_required
def act(object_type, object_id):
    record = visible(object_type, object_id)
    form = parse(ActForm, request.form)
    workflow_transitions = [t for t in diagrams.workflow_of(object_type, record).transitions
                            if t.event == form['event']]
    payload_name = workflow_transitions[0].payload if workflow_transitions else None
    payload = payload_from_form(payload_name, request.form, _rubric(record)) if payload_name else None
    record = engine.fire(record, form['event'], me(), reason=form['reason'], payload=payload,
                         expected_version=form['version'], override=form['override'])
    flash(_('已办理：%(state)s', state=_state_text(object_type, record.state)), 'success')
    return back(object_url(object_type, object_id))


def _rubric(record):
    """The scoring rubric of the record's campaign (what a score form is read against)."""
    campaign = record if isinstance(record, Campaign) else record.campaign
    return campaign_setting(campaign.settings, 'rubric')


def _state_text(object_type, state):
    from ..helpers import state_label
    return state_label(object_type, state)


@bp.post('/inbox/bulk')
@login_required
def bulk():
    """Approve many items at once; each is its own audited transition, and each refusal is reported."""
    done, failed = 0, []
    for token in request.form.getlist('items')[:200]:
        try:
            object_type, object_id, version, event = token.split(':')
            if (object_type, event) not in BULK_EVENTS:
                raise ValueError(token)
            record = find_visible(me(), object_type, int(object_id))
            engine.fire(record, event, me(), reason=request.form.get('reason') or None,
                        expected_version=int(version))
            done += 1
        except ValueError:
            abort(400, '待办事项的格式有误，请刷新页面后重试 (malformed item: reload the page)')
        except EngineError as err:
            failed.append(err.message)
    if done:
        flash(_('已批量通过 %(n)d 项。', n=done), 'success')
    for message in failed:
        flash(message, 'error')
    if not done and not failed:
        flash(_('请先勾选要通过的事项。'), 'error')
    return redirect(url_for('review.inbox'), 303)


@bp.get('/branches')
@login_required
def branches():
    assignments = RoleAssignment.select().where(RoleAssignment.user == me(),
                                                RoleAssignment.role.in_(['branch_chair', 'party_secretary']))
    branch_ids = sorted({a.branch_id for a in assignments})
    if not branch_ids:
        abort(403)
    return redirect(url_for('review.branch', branch_id=branch_ids[0]))


@bp.get('/branches/<int:branch_id>')
@login_required
def branch(branch_id):
    branch_row = find_visible(me(), 'branch', branch_id)
    teams = list(Team.select().where(Team.branch == branch_row).order_by(Team.id))
    participations = {p.team_id: p for p in Participation.select().where(Participation.team.in_(teams))}
    applications = list(Application.select(Application, Team).join(Team).where(Application.team.in_(teams))
                        .order_by(Application.id.desc()))      # with its team: the page names it
    innovations = list(InnovationResult.select().where(InnovationResult.team.in_(teams)))
    decisions = _branch_decisions(teams)
    return render_template('branch.html', branch=branch_row, teams=teams, participations=participations,
                           applications=applications, innovations=innovations, decisions=decisions, stages=STAGES)


def _branch_decisions(teams):
    """The decisions taken on the branch's teams (what the party secretary is copied on), newest first."""
    from engine import teams_decisions
    return teams_decisions(teams, limit=100)
