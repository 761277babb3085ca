"""Team leader pages: the team's campaign stepper and checklist, evidence, applications, innovation results."""
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import actions_for, find_visible, find_visible_attachment
from engine import upload_dir
from engine import team_timeline, teams_led_by
from models import Application, Branch, Campaign, Evidence, InnovationResult, Participation, Requirement
from workflows.settings import TIER_LABELS

from ..forms import EvidenceForm, parse
from .common import back, me

bp = Blueprint('team', __name__)


@bp.get('/team')
@login_required
def mine():
    teams = teams_led_by(me())
    if len(teams) == 1:
        return redirect(url_for('team.page', team_id=teams[0].id))
    return render_template('team_list.html', teams=teams)


def current_campaign(team):
    """The unit's running campaign (or the latest one)."""
    campaigns = Campaign.select().where(Campaign.unit == team.branch.unit_id).order_by(Campaign.id.desc())
    running = [c for c in campaigns if c.state not in ('draft', 'closed')]
    return running[0] if running else campaigns.first()


def checklist(participation):
    if participation is None:
        return []
    requirements = (Requirement.select().where(Requirement.campaign == participation.campaign_id,
                                               Requirement.stage == participation.stage, Requirement.active == True)  # noqa
                    .order_by(Requirement.position))
    evidence = {e.requirement_id: e for e in Evidence.select().where(Evidence.participation == participation)}
    return [(r, evidence.get(r.id)) for r in requirements]


@bp.get('/teams/<int:team_id>')
@login_required
def page(team_id):
    team = find_visible(me(), 'team', team_id)
    campaign = current_campaign(team)
    participation = (Participation.get_or_none(Participation.team == team, Participation.campaign == campaign)
                     if campaign else None)
    applications = list(Application.select().where(Application.team == team).order_by(Application.id.desc()))
    innovations = list(InnovationResult.select().where(InnovationResult.team == team)
                       .order_by(InnovationResult.id.desc()))
    leads = team in teams_led_by(me())
    return render_template(
        'team.html', team=team, branch=Branch.get_by_id(team.branch_id), campaign=campaign,
        participation=participation, items=checklist(participation), leads=leads,
        actions=actions_for(me(), participation) if participation else [],
        applications=[(a, actions_for(me(), a)) for a in applications],
        innovations=[(i, actions_for(me(), i)) for i in innovations],
        timeline=team_timeline(team), tiers=TIER_LABELS, editable_evidence=_evidence_editable(participation, leads))


def _evidence_editable(participation, leads):
    return bool(leads and participation and participation.state in ('in_progress', 'stage_returned'))


@bp.post('/teams/<int:team_id>/enrol')
@login_required
def enrol(team_id):
    team = find_visible(me(), 'team', team_id)
    campaign = current_campaign(team) or abort(404)
    engine.create('participation', me(), {'team_id': team.id, 'campaign_id': campaign.id})
    flash(_('已提交报名，等待分会审核。'), 'success')
    return redirect(url_for('team.page', team_id=team.id), 303)


@bp.post('/participations/<int:participation_id>/evidence/<int:requirement_id>')
@login_required
def evidence(participation_id, requirement_id):
    participation = find_visible(me(), 'participation', participation_id)
    form = parse(EvidenceForm, request.form)
    files = [(f.filename, f.read()) for f in request.files.getlist('files') if f and f.filename]
    removed = [int(v) for v in request.form.getlist('remove') if v.isdigit()]
    engine.record_evidence(participation, requirement_id, me(), text=form['text'], add_files=files,
                           remove_attachment_ids=removed, expected_version=form['version'])
    flash(_('佐证材料已保存。'), 'success')
    return back(url_for('team.page', team_id=participation.team_id) + f'#req-{requirement_id}')


@bp.get('/attachments/<int:attachment_id>')
@login_required
def attachment(attachment_id):
    item = find_visible_attachment(me(), attachment_id)
    import os
    return send_file(os.path.abspath(os.path.join(upload_dir(), item.sha256)), mimetype=item.content_type,
                     as_attachment=True, download_name=item.filename)


@bp.post('/teams/<int:team_id>/applications')
@login_required
def new_application(team_id):
    return _new_draft('application', team_id, _('申报已保存为草稿，确认无误后请提交。'))


@bp.post('/teams/<int:team_id>/innovations')
@login_required
def new_innovation(team_id):
    return _new_draft('innovation', team_id, _('创新成果已保存为草稿，确认无误后请提交。'))


def _new_draft(object_type, team_id, saved):
    """A team's new record from the posted form, read against the engine's input schema for its kind."""
    form = parse(engine.KINDS[object_type].new_record, request.form, exclude=('team_id',))
    record = engine.create(object_type, me(), {'team_id': team_id, **form})
    flash(saved, 'success')
    return redirect(url_for('review.detail', object_type=object_type, object_id=record.id), 303)
