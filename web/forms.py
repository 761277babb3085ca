"""Turning posted forms into engine input: allow-listed fields only, bad values become BadInput (422)."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine import names
from engine import BadInput
from models import INNOVATION_TOPICS, TIERS


class ActForm(Schema):
    class Meta:
        unknown = EXCLUDE          # payload fields are read separately, by name

    event = fields.String(required=True, validate=validate.Length(min=1, max=40))
    version = fields.Integer(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))
    override = fields.Boolean(load_default=False)


class EvidenceForm(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True)
    text = fields.String(load_default=None, validate=validate.Length(max=20000))


class NewApplicationForm(Schema):
    class Meta:
        unknown = EXCLUDE

    campaign_id = fields.Integer(required=True)
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    statement = fields.String(load_default='', validate=validate.Length(max=20000))


class NewInnovationForm(Schema):
    class Meta:
        unknown = EXCLUDE

    campaign_id = fields.Integer(required=True)
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), names.validate])
    topic = fields.String(required=True, validate=validate.OneOf(INNOVATION_TOPICS))
    summary = fields.String(load_default='', validate=validate.Length(max=20000))


class DecisionForm(Schema):
    class Meta:
        unknown = EXCLUDE

    doc_number = fields.String(required=True, validate=[validate.Length(min=1, max=60), names.validate])
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), names.validate])
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))


def parse(schema_cls, form):
    data = {key: form.get(key) for key in form.keys()}
    data = {k: v for k, v in data.items() if v != '' or k in ('text', 'reason', 'statement', 'summary')}
    try:
        return schema_cls().load(data)
    except ValidationError as err:
        raise BadInput(_describe(err.messages), {'fields': err.messages}) from None


def _describe(messages):
    names = '、'.join(sorted(messages))
    return f'表单填写有误：{names} (invalid form fields: {", ".join(sorted(messages))})'


def _int(value, what):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f'{what} 应为整数 ({what} must be a whole number)') from None


def _float(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f'「{what}」应填写分数 (score must be a number)') from None
    if number != number or number in (float('inf'), float('-inf')):
        raise BadInput(f'「{what}」应填写分数 (score must be a number)')
    return number


def payload_from_form(payload_name, form, rubric=()):
    """Build the event payload a transition declares, from its named form fields."""
    if payload_name == 'ReturnItemsPayload':
        ids = [_int(v, 'requirement_ids') for v in form.getlist('requirement_ids')]
        comments = {str(i): form.get(f'comment_{i}', '').strip() for i in ids if form.get(f'comment_{i}', '').strip()}
        payload = {'requirement_ids': ids} if ids else {}
        if comments:
            payload['comments'] = comments
        return payload
    if payload_name == 'ScorePayload':
        return {'criteria': {c['code']: _float(form.get(f'criteria_{c["code"]}'), c['zh']) for c in rubric}}
    if payload_name == 'DowngradePayload':
        return {'tier': form.get('tier', '')}
    if payload_name == 'ObjectionPayload':
        return {'objection_id': _int(form.get('objection_id'), 'objection_id')}
    if payload_name == 'CommendPayload':
        return {'decision_id': _int(form.get('decision_id'), 'decision_id')}
    return None
