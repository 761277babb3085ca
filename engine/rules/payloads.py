"""Input schemas of events: a reason and each event's payload (new records: engine.rules.inputs)."""
from marshmallow import Schema, ValidationError, fields, validate

from models import TIERS

from engine.errors import BadInput

REASON_MAX = 2000


class ReturnItemsPayload(Schema):
    requirement_ids = fields.List(fields.Integer(strict=True), validate=validate.Length(max=100))
    comments = fields.Dict(keys=fields.String(validate=validate.Length(max=20)),
                           values=fields.String(validate=validate.Length(max=REASON_MAX)))


class ScorePayload(Schema):
    criteria = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                           values=fields.Float(allow_nan=False), required=True,
                           validate=validate.Length(min=1, max=30))


class DowngradePayload(Schema):
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))


class ObjectionPayload(Schema):
    objection_id = fields.Integer(required=True, strict=True)


class CommendPayload(Schema):
    decision_id = fields.Integer(required=True, strict=True)


PAYLOADS = {cls.__name__: cls for cls in (ReturnItemsPayload, ScorePayload, DowngradePayload,
                                          ObjectionPayload, CommendPayload)}


def load(schema_cls, data, what='输入'):
    if data is not None and not isinstance(data, dict):
        raise BadInput(f'{what}格式错误：应为对象 (expected an object)')
    try:
        result = schema_cls().load(data or {})
    except ValidationError as err:
        raise BadInput(f'{what}有误 (invalid input): {err.messages}', {'fields': err.messages}) from None
    if has_nul(result):
        raise BadInput(f'{what}含有不允许的空字符 (NUL characters are not allowed)')
    return result


def has_nul(value):
    """Whether a text anywhere in `value` holds a NUL character (PostgreSQL cannot store one in text)."""
    if isinstance(value, str):
        return '\x00' in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def clean_reason(reason, required):
    if reason is not None and not isinstance(reason, str):
        raise BadInput('理由应为文字 (reason must be text)')
    reason = (reason or '').strip() or None
    if reason and '\x00' in reason:
        raise BadInput('理由含有不允许的空字符 (NUL characters are not allowed)', {'fields': {'reason': ['invalid']}})
    if required and not reason:
        raise BadInput('请填写理由 (a reason is required)', {'fields': {'reason': ['required']}})
    if reason and len(reason) > REASON_MAX:
        raise BadInput(f'理由过长，最多{REASON_MAX}字 (reason too long)', {'fields': {'reason': ['too long']}})
    return reason
