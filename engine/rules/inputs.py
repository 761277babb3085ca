"""The input that creates something, described once: the fields of a new campaign, participation, application,
innovation result and commendation decision, and the field types every input uses. The engine loads with these
schemas, the JSON API declares them (and its OpenAPI document shows them), the UI's forms are read against them
(web/forms.py) — one description, three doors."""
from marshmallow import Schema, ValidationError, fields, validate

from models import INNOVATION_TOPICS, TIERS

from engine import names

MAX_ID = 2 ** 31 - 1            # every id fits a 32-bit column
NO_NUL = r'^[^\x00]*$'          # PostgreSQL cannot store NUL in text


class Text(fields.String):
    """A bounded text without NUL characters or lone surrogates (no database can store them)."""

    def __init__(self, max_length, min_length=0, **kwargs):
        checks = [validate.Length(min=min_length, max=max_length), validate.Regexp(NO_NUL)]
        super().__init__(validate=checks + list(kwargs.pop('validate', [])), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any('\ud800' <= ch <= '\udfff' for ch in text):
            raise ValidationError('不是有效的文字 (not valid text)')
        return text


class Name(Text):
    """A bounded name or title: also no control characters or bidi controls (engine/names.py)."""

    def __init__(self, max_length, min_length=1, **kwargs):
        super().__init__(max_length, min_length, validate=[names.validate], **kwargs)


def Id(**kwargs):
    return fields.Integer(strict=kwargs.pop('strict', True), validate=validate.Range(1, MAX_ID), **kwargs)


def Year(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(2000, 2100), **kwargs)


class NewCampaign(Schema):
    unit_id = Id(required=True)
    title = Name(200, required=True)
    period = fields.String(required=True, validate=validate.Regexp(r'^\d{4}(-\d{4})?$'))
    settings = fields.Dict(load_default=dict)


class NewParticipation(Schema):
    team_id = Id(required=True)
    campaign_id = Id(required=True)


class NewApplication(NewParticipation):
    year = Year(required=True)
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    statement = Text(20000, load_default='')


class NewInnovation(NewParticipation):
    year = Year(required=True)
    title = Name(200, required=True)
    topic = fields.String(required=True, validate=validate.OneOf(INNOVATION_TOPICS))
    summary = Text(20000, load_default='')


class NewDecision(Schema):
    doc_number = Name(60, required=True, metadata={'description': '文号, e.g. 货工〔2026〕12号'})
    title = Name(200, required=True)
    year = Year(required=True)
    application_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=1000),
                                  metadata={'description': 'applications whose 公示 has closed'})
