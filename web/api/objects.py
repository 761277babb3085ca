"""Acting on any workflow object (fire an event through the engine), its history, the caller's inbox (待办)
and the global audit log (auditors)."""
from flask import url_for

import engine
from engine import audit
from engine import find_visible, require_auditor
from engine import LogFilter, audit_log, timeline
from engine import inbox as inbox_items

from . import schemas as s
from .auth import actor
from .common import OBJECT_TYPE_PATH, blueprint, etag, path_id, seen_version
from .present import action_dict, action_dicts, audit_dict, record_dict, state_label, team_dict

bp = blueprint('objects', '/api/v1/objects',
               description='Any workflow object (campaign, participation, application, innovation): act on it by '
                           'firing an event, read its history.')
inbox_bp = blueprint('inbox', '/api/v1/inbox',
                     description='What waits for the caller (待办), oldest first.')
audit_bp = blueprint('audit', '/api/v1/audit',
                     description='The global, hash-chained audit log (auditors only).')

OBJECT = f'/{OBJECT_TYPE_PATH}/{path_id("object_id")}'
EVENT_PATH = f'<any({", ".join(s.EVENTS)}):event>'


@bp.route(OBJECT, methods=['GET'])
@bp.response(200, s.RecordSchema)
def one(object_type, object_id):
    """An object's state and version (the typed endpoints give its details)"""
    record = find_visible(actor(), object_type, object_id)
    return record_dict(record), 200, {**etag(record), 'Content-Location': _typed_url(object_type, record)}


# kind → (endpoint of its typed resource, the name of its id argument)
TYPED = {'campaign': ('campaigns.campaign', 'campaign_id'), 'participation': ('participations.one', 'record_id'),
         'application': ('applications.one', 'record_id'), 'innovation': ('innovations.one', 'record_id')}


def _typed_url(object_type, record):
    endpoint, argument = TYPED[object_type]
    return url_for(endpoint, **{argument: record.id})


@bp.route(f'{OBJECT}/history', methods=['GET'])
@bp.response(200, s.HistorySchema)
def history(object_type, object_id):
    """The object's audit records, oldest first: who did what, when, from which state to which, and why"""
    find_visible(actor(), object_type, object_id)
    return {'items': [audit_dict(r) for r in timeline(object_type, object_id)]}


@bp.route(f'{OBJECT}/events/{EVENT_PATH}', methods=['POST'])
@bp.arguments(s.IfMatchSchema, location='headers')
@bp.arguments(s.EventSchema, required=False)
@bp.response(200, s.RecordSchema)
def fire(headers, body, object_type, object_id, event):
    """Fire an event (approve, return, submit …) with a reason and payload; send the version you saw

    The engine checks permission, the object's state and every guard, and writes the audit record in the same
    transaction. A stale version answers 409 `conflict`; a refused guard 409 `guard_failed` with every
    reason; an event that does not apply now 409 `invalid_transition`; no permission 403 (404, as for an object
    that does not exist, to who may not see the object at all)."""
    record = find_visible(actor(), object_type, object_id)
    version = seen_version(headers, body.get('version'))
    record = engine.fire(record, event, actor(), reason=body.get('reason'), payload=body.get('payload'),
                         expected_version=version, override=body.get('override', False))
    return record_dict(record), 200, {**etag(record), 'Content-Location': _typed_url(object_type, record)}


@bp.route(f'{OBJECT}/actions', methods=['GET'])
@bp.response(200, s.ActionSchema(many=True))
def actions(object_type, object_id):
    """The events the caller may fire on the object now, with the guards that would refuse them"""
    record = find_visible(actor(), object_type, object_id)
    return action_dicts(actor(), record)


@inbox_bp.route('', methods=['GET'])
@inbox_bp.response(200, s.InboxSchema)
def inbox():
    """What waits for the caller's decision, oldest first, with the actions they may take"""
    items = inbox_items(actor())
    return {'count': len(items), 'items': [
        {'object_type': i.object_type, 'id': i.record.id, 'state': i.record.state,
         'state_label': state_label(i.object_type, i.record), 'version': i.record.version,
         'team': team_dict(i.team, i.team.branch), 'waiting_since': i.waiting_since, 'overdue': i.overdue,
         'actions': [action_dict(a) for a in i.actions]} for i in items]}


@audit_bp.route('', methods=['GET'])
@audit_bp.arguments(s.AuditQuerySchema, location='query')
@audit_bp.response(200, s.AuditPageSchema)
def log(query):
    """The global log, newest first, filtered by object, actor (username), event and days; keyset-paged"""
    require_auditor(actor())
    limit, before = query.pop('limit'), query.pop('before', None)
    records = audit_log(LogFilter(**query), before, limit + 1)
    more = len(records) > limit
    records = records[:limit]
    return {'items': [audit_dict(r) for r in records], 'next_before': records[-1].seq if more else None}



@audit_bp.route('/integrity', methods=['GET'])
@audit_bp.arguments(s.IntegrityQuerySchema, location='query')
@audit_bp.response(200, s.IntegritySchema)
def integrity(query):
    """Recompute the hash chain (and compare with a checkpoint you kept); names the first bad record"""
    require_auditor(actor())
    result = audit.verify(checkpoint=query.get('checkpoint'))
    return {'ok': result.ok, 'checked': result.checked, 'head_seq': result.head_seq, 'head_hash': result.head_hash,
            'first_bad_seq': result.first_bad_seq, 'problems': [{'seq': q, 'text': t} for q, t in result.problems],
            'checkpoint': audit.checkpoint()}
