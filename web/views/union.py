"""Union staff: run the campaign, watch participation against targets, evaluate and rank applications,
commend, export to Excel, import the organisation."""
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from peewee import fn

import engine
from engine import actions_for, find_visible
from engine import update_requirement
from engine import issue_decision
from engine import NotPermitted
from engine import HOLDS_TIER, participation_by_branch
from engine import ImportFailed, import_bytes
from models import (Application, Branch, Campaign, CommendationDecision, Participation, Requirement, RoleAssignment,
                    Team, TIERS, Unit)
from workflows.settings import campaign_setting
from workflows.stages import STAGES

from .. import charts, excel
from ..forms import parse
from .common import back, me

bp = Blueprint('union', __name__)
EVALUATED = ('recommended',) + HOLDS_TIER


def union_units():
    units = [a.unit_id for a in RoleAssignment.select().where(RoleAssignment.user == me(),
                                                              RoleAssignment.role == 'union_staff')]
    if not units:
        raise NotPermitted(_('仅处工会可用'))
    return units


def campaign_for_staff(campaign_id):
    """The campaign for its unit's union staff: 404 to who may not see it, 403 to who may (an auditor)."""
    campaign = find_visible(me(), 'campaign', campaign_id)
    if campaign.unit_id not in union_units():
        raise NotPermitted(_('无权管理其他单位的创建活动'))
    return campaign


@bp.get('/campaigns')
@login_required
def campaigns():
    rows = list(Campaign.select().where(Campaign.unit.in_(union_units())).order_by(Campaign.id.desc()))
    if len(rows) == 1:
        return redirect(url_for('union.campaign', campaign_id=rows[0].id))
    return render_template('campaigns.html', campaigns=rows)


def branch_rows(campaign):
    by_branch = participation_by_branch(campaign)
    reached = {}
    for branch_id, stage, count in reached_by_branch(campaign):
        for earlier in STAGES[:STAGES.index(stage) + 1]:
            reached[(branch_id, earlier)] = reached.get((branch_id, earlier), 0) + count
    rows = []
    for branch, (taking, total) in sorted(by_branch.items(), key=lambda kv: kv[0].id):
        rows.append({'branch': branch, 'taking': taking, 'total': total,
                     'percent': round(taking * 100 / total) if total else 0,
                     'reached': {s: reached.get((branch.id, s), 0) for s in STAGES}})
    return rows


def reached_by_branch(campaign):
    """(branch id, highest stage reached, teams) for the campaign, counted in the database."""
    return (Participation.select(Team.branch, Participation.reached_stage, fn.COUNT(Participation.id)).join(Team)
            .where(Participation.campaign == campaign, Participation.reached_stage.is_null(False),
                   Team.branch.in_(Branch.select(Branch.id).where(Branch.unit == campaign.unit_id)))
            .group_by(Team.branch, Participation.reached_stage).tuples())


@bp.get('/campaigns/<int:campaign_id>')
@login_required
def campaign(campaign_id):
    campaign = campaign_for_staff(campaign_id)
    rows = branch_rows(campaign)
    taking, total = sum(r['taking'] for r in rows), sum(r['total'] for r in rows)
    stage = campaign.state if campaign.state in STAGES else STAGES[0]
    target = campaign_setting(campaign.settings, 'targets').get(stage, campaign_setting(
        campaign.settings, 'targets')['consolidation'])
    requirements = list(Requirement.select().where(Requirement.campaign == campaign)
                        .order_by(Requirement.stage, Requirement.position))
    return render_template(
        'campaign.html', campaign=campaign, rows=rows, taking=taking, total=total,
        percent=round(taking * 100 / total) if total else 0, target=target, actions=actions_for(me(), campaign),
        chart=charts.participation_chart([(r['branch'].name, r['percent']) for r in rows], target),
        requirements=requirements)


@bp.post('/campaigns/<int:campaign_id>/requirements/<int:requirement_id>')
@login_required
def edit_requirement(campaign_id, requirement_id):
    campaign = find_visible(me(), 'campaign', campaign_id)
    changes = {k: request.form[k].strip() for k in ('title_zh', 'title_en', 'description', 'cadence')
               if k in request.form}
    changes['active'] = request.form.get('active') == 'true'
    update_requirement(campaign, requirement_id, me(), changes, reason=request.form.get('reason') or None,
                       expected_version=_int(request.form.get('version'), 'version'))
    flash(_('创建要求已更新。'), 'success')
    return back(url_for('union.campaign', campaign_id=campaign_id) + '#requirements')


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400, f'表单填写有误：{name} 应为整数 (invalid form field: {name} must be a whole number)')


def ranked(campaign, year, tier):
    apps = list(Application.select(Application, Team).join(Team).where(
        Application.campaign == campaign, Application.year == year, Application.tier == tier,
        Application.state.in_(EVALUATED)))
    apps.sort(key=lambda a: (a.total_score is None, -(a.total_score or 0), a.id))
    return apps


@bp.get('/campaigns/<int:campaign_id>/evaluation')
@login_required
def evaluation(campaign_id):
    campaign = campaign_for_staff(campaign_id)
    years = sorted({a.year for a in Application.select(Application.year).where(Application.campaign == campaign)},
                   reverse=True)
    year = request.args.get('year', type=int) or (years[0] if years else None)
    quotas = campaign_setting(campaign.settings, 'quotas')
    tiers = []
    for tier in TIERS:
        apps = ranked(campaign, year, tier)
        used = sum(1 for a in apps if a.state in HOLDS_TIER)
        tiers.append({'tier': tier, 'apps': apps, 'quota': quotas.get(tier), 'used': used})
    return render_template('evaluation.html', campaign=campaign, year=year, years=years, tiers=tiers)


@bp.route('/campaigns/<int:campaign_id>/commendations', methods=['GET', 'POST'])
@login_required
def commendations(campaign_id):
    campaign = campaign_for_staff(campaign_id)
    if request.method == 'POST':
        form = parse(engine.inputs.NewDecision, request.form, exclude=('application_ids',))
        ids = [_int(v, 'application_ids') for v in request.form.getlist('application_ids')]
        decision = issue_decision(campaign, me(), {**form, 'application_ids': ids})
        flash(_('表彰决定 %(doc)s 已发布，表彰 %(n)d 个班组。', doc=decision.doc_number, n=len(ids)), 'success')
        return redirect(url_for('union.commendations', campaign_id=campaign_id), 303)
    waiting = list(Application.select(Application, Team).join(Team).where(
        Application.campaign == campaign, Application.state == 'notice_closed').order_by(Application.tier))
    decisions = list(CommendationDecision.select().where(CommendationDecision.unit == campaign.unit_id)
                     .order_by(CommendationDecision.issued_at.desc()))
    commended = {d.id: list(Application.select(Application, Team).join(Team).where(Application.decision == d)
                            .order_by(Application.tier.desc())) for d in decisions}
    return render_template('commendations.html', campaign=campaign, waiting=waiting, decisions=decisions,
                           commended=commended)


@bp.get('/campaigns/<int:campaign_id>/export.xlsx')
@login_required
def export(campaign_id):
    campaign = campaign_for_staff(campaign_id)
    data = excel.campaign_workbook(campaign)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f'campaign-{campaign.id}.xlsx',
                     mimetype='application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')


@bp.route('/org/import', methods=['GET', 'POST'])
@login_required
def org_import():
    units = union_units()
    report, summary = None, None
    if request.method == 'POST':
        upload = request.files.get('file')
        if not upload or not upload.filename:
            flash(_('请选择要导入的文件。'), 'error')
        else:
            try:
                summary = import_bytes(upload.read(), upload.filename, default_unit=Unit.get_by_id(units[0]).code,
                                       actor=me())
            except ImportFailed as err:
                report = list(err.report_lines())
    return render_template('org_import.html', report=report, summary=summary), (422 if report else 200)

