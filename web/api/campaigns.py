"""Campaigns: read them with their checklists and participation against the targets; union staff edit the
checklist and issue commendation decisions (表彰决定). Every change goes through the engine, audited."""
import engine
from engine import find_visible
from engine import add_requirement, update_requirement
from engine import issue_decision
from engine import participation_by_branch
from engine import visible_campaigns
from models import Application, Campaign, Requirement
from workflows.settings import campaign_setting
from workflows.stages import STAGES

from . import schemas as s
from .auth import actor
from .common import blueprint, etag, page, path_id, seen_version
from .present import detail, record_dict, requirement_dict

bp = blueprint('campaigns', '/api/v1/campaigns',
               description='Campaigns (创建学习型班组活动): stage checklists, participation against the targets, '
                           'commendation decisions.')
CAMPAIGN = f'/{path_id("campaign_id")}'


@bp.route('', methods=['GET'])
@bp.arguments(s.ListQuerySchema, location='query')
@bp.response(200, s.CampaignPageSchema)
def campaigns(query):
    """Campaigns the caller may read (union staff of the unit, auditors), paged"""
    return page(visible_campaigns(actor()), Campaign.id, query, record_dict)


@bp.route(CAMPAIGN, methods=['GET'])
@bp.response(200, s.CampaignSchema)
def campaign(campaign_id):
    """One campaign with every stage's requirements and the actions the caller may take"""
    record = find_visible(actor(), 'campaign', campaign_id)
    return detail(actor(), record), 200, etag(record)


@bp.route(f'{CAMPAIGN}/progress', methods=['GET'])
@bp.response(200, s.ProgressSchema)
def progress(campaign_id):
    """Teams taking part, per branch and for the unit, against the current stage's target (50 % / 80 %)"""
    record = find_visible(actor(), 'campaign', campaign_id)
    stage = record.state if record.state in STAGES else STAGES[0]
    targets = campaign_setting(record.settings, 'targets')
    branches = [{'branch_id': b.id, 'name': b.name, 'taking': taking, 'total': total,
                 'percent': round(taking * 100 / total) if total else 0}
                for b, (taking, total) in sorted(participation_by_branch(record).items(), key=lambda kv: kv[0].id)]
    taking, total = sum(b['taking'] for b in branches), sum(b['total'] for b in branches)
    return {'campaign_id': record.id, 'stage': stage, 'target': targets.get(stage, targets.get('consolidation')),
            'taking': taking, 'total': total, 'percent': round(taking * 100 / total) if total else 0,
            'branches': branches}


@bp.route(f'{CAMPAIGN}/requirements', methods=['POST'])
@bp.arguments(s.RequiredIfMatchSchema, location='headers')
@bp.arguments(s.NewRequirementSchema)
@bp.response(201, s.RequirementSchema)
def new_requirement(headers, body, campaign_id):
    """Add a requirement to a stage's checklist (union staff of the unit; If-Match: the campaign's version)"""
    record = find_visible(actor(), 'campaign', campaign_id)
    reason = body.pop('reason', None)
    payload = add_requirement(record, actor(), body, reason=reason, expected_version=seen_version(headers))
    requirement = Requirement.get_by_id(payload['requirement_id'])
    return requirement_dict(requirement), 201, etag(engine.load_object('campaign', campaign_id))


@bp.route(f'{CAMPAIGN}/requirements/{path_id("requirement_id")}', methods=['PATCH'])
@bp.arguments(s.RequiredIfMatchSchema, location='headers')
@bp.arguments(s.RequirementChangesSchema)
@bp.response(200, s.RequirementSchema)
def edit_requirement(headers, body, campaign_id, requirement_id):
    """Change a requirement (wording, cadence, kind of evidence; active=false retires it) — union staff"""
    record = find_visible(actor(), 'campaign', campaign_id)
    reason = body.pop('reason', None)
    update_requirement(record, requirement_id, actor(), body, reason=reason, expected_version=seen_version(headers))
    return requirement_dict(Requirement.get_by_id(requirement_id)), 200, etag(
        engine.load_object('campaign', campaign_id))


@bp.route(f'{CAMPAIGN}/decisions', methods=['POST'])
@bp.arguments(s.NewDecisionSchema)
@bp.response(201, s.DecisionSchema)
def new_decision(body, campaign_id):
    """Issue a commendation decision (表彰决定) commending the listed applications, all or none (union staff)"""
    decision = issue_decision(find_visible(actor(), 'campaign', campaign_id), actor(), body)
    commended = Application.select(Application.id).where(Application.decision == decision).order_by(Application.id)
    return {**decision.__data__, 'application_ids': [a.id for a in commended]}, 201
