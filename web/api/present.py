"""Turning engine records into the plain dicts the API schemas dump (no decisions here, only shapes)."""
from flask import url_for

from engine import actions_for
from engine import KINDS, object_type_of
from models import Attachment, Branch, CommendationDecision, Evidence, Objection, Requirement, Score, Team, User

from ..helpers import EXTRA_EVENTS


def team_dict(team, branch=None):
    branch = branch or Branch.get_by_id(team.branch_id)
    return {'id': team.id, 'name': team.name, 'branch_id': branch.id, 'branch_name': branch.name,
            'unit_id': branch.unit_id}


def _workflow(object_type, record):
    return KINDS[object_type].definition(record.workflow_version)


def state_label(object_type, record):
    workflow = _workflow(object_type, record)
    return {'zh': workflow.state_label(record.state, 'zh'), 'en': workflow.state_label(record.state, 'en')}


def record_dict(record):
    """The columns every workflow object has, plus its type-specific summary columns."""
    object_type = object_type_of(record)
    data = {'object_type': object_type, 'id': record.id, 'state': record.state,
            'state_label': state_label(object_type, record)}
    data.update({name: getattr(record, name) for name in ('version', 'workflow_version', 'created_at',
                                                          'updated_at', 'state_since')})
    data.update(record.__data__)
    if KINDS[object_type].owned_by_team:
        data['team'] = team_dict(Team.get_by_id(record.team_id))
        data['campaign_id'] = record.campaign_id
    else:
        data['unit_id'] = record.unit_id
    return data


def action_dict(a):
    return {'event': a.event, 'label': a.label, 'requires_reason': a.requires_reason, 'override': a.override,
            'payload': a.payload, 'review': a.review, 'todo': a.todo, 'blocked': [r.as_dict() for r in a.blocked]}


def action_dicts(actor, record):
    return [action_dict(a) for a in actions_for(actor, record)]


def attachment_dict(attachment):
    return {'id': attachment.id, 'filename': attachment.filename, 'content_type': attachment.content_type,
            'size': attachment.size, 'sha256': attachment.sha256, 'uploaded_at': attachment.uploaded_at,
            'download': url_for('evidence.attachment', attachment_id=attachment.id)}


def evidence_dict(evidence):
    if evidence is None:
        return None
    attachments = Attachment.select().where(Attachment.evidence == evidence).order_by(Attachment.id)
    return {'text': evidence.text, 'status': evidence.status, 'review_comment': evidence.review_comment,
            'updated_at': evidence.updated_at, 'attachments': [attachment_dict(a) for a in attachments]}


def requirement_dict(requirement, evidence=None):
    data = dict(requirement.__data__)
    data['evidence'] = evidence_dict(evidence)
    return data


def checklist(participation):
    """The current stage's active requirements, each with the team's evidence (or null)."""
    requirements = (Requirement.select().where(Requirement.campaign == participation.campaign_id,
                                               Requirement.stage == participation.stage,
                                               Requirement.active == True)  # noqa: E712
                    .order_by(Requirement.position, Requirement.id))
    evidence = {e.requirement_id: e for e in Evidence.select().where(Evidence.participation == participation)}
    return [requirement_dict(r, evidence.get(r.id)) for r in requirements]


def campaign_detail(actor, campaign):
    requirements = (Requirement.select().where(Requirement.campaign == campaign)
                    .order_by(Requirement.stage, Requirement.position, Requirement.id))
    return {**record_dict(campaign), 'requirements': [requirement_dict(r) for r in requirements],
            'actions': action_dicts(actor, campaign)}


def participation_detail(actor, participation):
    return {**record_dict(participation), 'requirements': checklist(participation),
            'actions': action_dicts(actor, participation)}


def application_detail(actor, application):
    scores = list(Score.select().where(Score.application == application).order_by(Score.id))
    judges = {u.id: u.display_name for u in User.select().where(User.id.in_([s.judge_id for s in scores] or [0]))}
    objections = Objection.select().where(Objection.application == application).order_by(Objection.id)
    decision = (CommendationDecision.get_or_none(CommendationDecision.id == application.decision_id)
                if application.decision_id else None)
    return {**record_dict(application),
            'decision': dict(decision.__data__) if decision else None,
            'scores': [{'judge_id': s.judge_id, 'judge_name': judges.get(s.judge_id), 'criteria': s.criteria,
                        'total': s.total, 'scored_at': s.scored_at} for s in scores],
            'objections': [dict(o.__data__) for o in objections],
            'actions': action_dicts(actor, application)}


def innovation_detail(actor, result):
    return {**record_dict(result), 'actions': action_dicts(actor, result)}


DETAIL = {'campaign': campaign_detail, 'participation': participation_detail,
          'application': application_detail, 'innovation': innovation_detail}


def detail(actor, record):
    return DETAIL[object_type_of(record)](actor, record)


def audit_dict(record):
    if record.event in EXTRA_EVENTS:
        label = EXTRA_EVENTS[record.event]
    elif record.object_type in KINDS:
        workflow = KINDS[record.object_type].definition()
        label = {'zh': workflow.event_label(record.event, 'zh'), 'en': workflow.event_label(record.event, 'en')}
    else:
        label = {'zh': record.event, 'en': record.event}
    return {'seq': record.seq, 'occurred_at': record.occurred_at, 'object_type': record.object_type,
            'object_id': record.object_id, 'event': record.event, 'event_label': label,
            'from_state': record.from_state, 'to_state': record.to_state, 'actor_id': record.actor_id,
            'actor_name': getattr(record, 'actor_name', None), 'actor_role': record.actor_role,
            'reason': getattr(record, 'reason', None), 'payload': record.payload, 'hash': record.hash,
            'integrity': getattr(record, 'integrity', None)}

