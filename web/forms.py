"""Turning posted forms into engine input: allow-listed fields only, bad values become BadInput (422). Forms that
create something are read against the engine's own input schemas (engine.inputs)."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine import BadInput


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


def parse(schema_cls, form, exclude=()):
    """The posted form read against `schema_cls` (a form's own, or the engine's input schema: engine.inputs):
    only its fields, a whole number typed as text taken as the number it reads, an empty optional field left out."""
    schema = schema_cls(exclude=exclude, unknown=EXCLUDE)
    data = {}
    for key, field in schema.load_fields.items():
        value = form.get(key)
        if value is None or (value == '' and key not in ('text', 'reason', 'statement', 'summary')):
            continue
        if isinstance(field, fields.Integer) and value.strip().isascii() and value.strip().isdigit():
            value = int(value)
        data[key] = value
    try:
        return schema.load(data)
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
