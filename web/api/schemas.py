"""marshmallow schemas of the JSON API: `<Action>Schema` for what comes in, `<Thing>Schema` for what goes out.

Inputs are allow-lists (unknown fields are refused), every text is bounded and free of NUL characters, every
id fits a 32-bit column. The OpenAPI document is generated from these classes."""
import datetime

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

import engine
import workflows
from engine import EVIDENCE_KINDS
from engine import KINDS
from workflows.stages import STAGES

OBJECT_TYPES = sorted(KINDS)
AUDIT_OBJECT_TYPES = OBJECT_TYPES + ['unit', 'user']


# --- fields ---------------------------------------------------------------------------------------------

# The field types every input uses, and the new records' schemas, are the engine's own (engine.inputs).
Text, Name, Id, MAX_ID = engine.inputs.Text, engine.inputs.Name, engine.inputs.Id, engine.inputs.MAX_ID


class UTCDateTime(fields.DateTime):
    """Naive UTC datetimes from the database, written as RFC 3339 with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def Label(**kwargs):
    return fields.Nested(LabelSchema, **kwargs)


class LabelSchema(Schema):
    zh = fields.String()
    en = fields.String()


# --- inputs ---------------------------------------------------------------------------------------------

class EventSchema(Schema):
    reason = Text(2000, allow_none=True, metadata={'description': '理由/意见; required by return, reject, '
                                                                  'withdraw … and by every override'})
    payload = fields.Dict(allow_none=True, metadata={
        'description': 'Event data, only for events that take it: return_stage/decline_cosign '
                       '{"requirement_ids": [..], "comments": {"id": "text"}}; score {"criteria": {"code": n}}; '
                       'downgrade {"tier": ..}; dismiss_objection/uphold_objection {"objection_id": n}; '
                       'commend {"decision_id": n}'})
    override = fields.Boolean(load_default=False, metadata={'description': 'act past an overridable guard '
                                                                           '(needs a reason)'})
    version = Id(metadata={'description': 'the version you saw (alternative to If-Match)'})


IF_MATCH = r'^(W/)?"?([1-9][0-9]{0,8})"?$'
IF_MATCH_DOC = ('The version of the object you saw, e.g. "7" (as in its ETag). A stale version answers '
                '409 conflict.')


class IfMatchSchema(Schema):
    if_match = fields.String(data_key='If-Match', validate=validate.Regexp(IF_MATCH),
                             metadata={'description': IF_MATCH_DOC})


class RequiredIfMatchSchema(Schema):
    if_match = fields.String(data_key='If-Match', required=True, validate=validate.Regexp(IF_MATCH),
                             metadata={'description': IF_MATCH_DOC + ' Required: an edit never overwrites a '
                                                                     'change you have not seen.'})


class ListQuerySchema(Schema):
    after = fields.Integer(validate=validate.Range(0, MAX_ID), metadata={'description': 'return ids above this '
                                                                                         '(the previous next_after)'})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class RecordQuerySchema(ListQuerySchema):
    campaign_id = Id(strict=False)
    team_id = Id(strict=False)
    state = Text(30, min_length=1)
    year = fields.Integer(validate=validate.Range(2000, 2100))


class TeamQuerySchema(ListQuerySchema):
    unit_id = Id(strict=False)
    branch_id = Id(strict=False)


NewParticipationSchema = engine.inputs.NewParticipation
NewApplicationSchema = engine.inputs.NewApplication
NewInnovationSchema = engine.inputs.NewInnovation


class EditEvidenceSchema(Schema):
    text = Text(20000, required=True, metadata={'description': 'the evidence text (replaces the previous text)'})
    remove_attachment_ids = fields.List(Id(), validate=validate.Length(max=100))


class RequirementChangesSchema(Schema):
    title_zh = Name(200)
    title_en = Name(200)
    description = Text(2000)
    cadence = Text(100)
    evidence_kind = fields.String(validate=validate.OneOf(EVIDENCE_KINDS))
    position = fields.Integer(strict=True, validate=validate.Range(0, 1000))
    active = fields.Boolean(metadata={'description': 'false retires the requirement (its history stays)'})
    reason = Text(2000, allow_none=True)


class NewRequirementSchema(RequirementChangesSchema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    code = fields.String(required=True, validate=validate.Regexp(r'^[a-z][a-z0-9_]{1,39}$'))
    title_zh = Name(200, required=True)
    title_en = Name(200, required=True)


NewDecisionSchema = engine.inputs.NewDecision


class IntegrityQuerySchema(Schema):
    checkpoint = fields.String(validate=validate.Regexp(r'^[0-9]{1,18}:[0-9a-f]{64}$'), metadata={
        'description': 'a checkpoint kept outside the database ("SEQ:HASH"): also detects records cut off the end'})


class UploadSchema(Schema):
    file = Upload(required=True, metadata={'description': 'pdf, jpg, png, txt, doc(x), xls(x) or ppt(x); '
                                                          'at most 10 MB'})


class AuditQuerySchema(Schema):
    object_type = fields.String(validate=validate.OneOf(AUDIT_OBJECT_TYPES))
    object_id = Id(strict=False)
    actor = Text(60, min_length=1, metadata={'description': 'username'})
    event = fields.String(validate=validate.Regexp(r'^[a-z_]{1,40}$'))
    since = fields.Date(metadata={'description': 'first day (UTC), inclusive'})
    until = fields.Date(metadata={'description': 'last day (UTC), inclusive'})
    before = fields.Integer(validate=validate.Range(1, 2 ** 62), metadata={
        'description': 'return records older than this sequence number (the previous next_before)'})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


# --- outputs --------------------------------------------------------------------------------------------

class RoleSchema(Schema):
    role = fields.String()
    unit_id = fields.Integer(allow_none=True)
    branch_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(allow_none=True)


class TokenInfoSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = UTCDateTime()
    last_used_at = UTCDateTime(allow_none=True)


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.Nested(RoleSchema))
    token = fields.Nested(TokenInfoSchema)


class UnitSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    settings = fields.Dict()


class BranchSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    name = fields.String()


class TeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    branch_id = fields.Integer()
    branch_name = fields.String()
    unit_id = fields.Integer()


class ActionSchema(Schema):
    event = fields.String()
    label = Label()
    requires_reason = fields.Boolean()
    override = fields.Boolean()
    payload = fields.String(allow_none=True, metadata={'description': 'name of the payload the event takes'})
    review = fields.Boolean()
    todo = fields.Boolean()
    blocked = fields.List(fields.Dict(), metadata={'description': 'guards that would refuse it now'})


class RecordSchema(Schema):
    """What every workflow object has."""
    object_type = fields.String(validate=validate.OneOf(OBJECT_TYPES))
    id = fields.Integer()
    state = fields.String()
    state_label = Label()
    version = fields.Integer(metadata={'description': 'send it back in If-Match when you act'})
    workflow_version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    state_since = UTCDateTime()


class CampaignSummarySchema(RecordSchema):
    unit_id = fields.Integer()
    title = fields.String()
    period = fields.String()


class TeamRecordSchema(RecordSchema):
    team = fields.Nested(TeamSchema)
    campaign_id = fields.Integer()


class ParticipationSummarySchema(TeamRecordSchema):
    stage = fields.String()
    reached_stage = fields.String(allow_none=True)
    submitted_at = UTCDateTime(allow_none=True)


class ApplicationSummarySchema(TeamRecordSchema):
    year = fields.Integer()
    tier = fields.String()
    requested_tier = fields.String()
    total_score = fields.Float(allow_none=True)
    submitted_at = UTCDateTime(allow_none=True)
    notice_ends_at = UTCDateTime(allow_none=True)


class InnovationSummarySchema(TeamRecordSchema):
    year = fields.Integer()
    title = fields.String()
    topic = fields.String()
    published_at = UTCDateTime(allow_none=True)


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = UTCDateTime()
    download = fields.String(metadata={'description': 'path of the file'})


class EvidenceSchema(Schema):
    text = fields.String()
    status = fields.String()
    review_comment = fields.String(allow_none=True)
    updated_at = UTCDateTime(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))


class RequirementSchema(Schema):
    id = fields.Integer()
    stage = fields.String()
    code = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    description = fields.String()
    cadence = fields.String()
    evidence_kind = fields.String()
    position = fields.Integer()
    active = fields.Boolean()
    evidence = fields.Nested(EvidenceSchema, allow_none=True)


class EvidenceItemSchema(Schema):
    participation_id = fields.Integer()
    participation_version = fields.Integer()
    requirement = fields.Nested(RequirementSchema)


class CampaignSchema(CampaignSummarySchema):
    settings = fields.Dict()
    requirements = fields.List(fields.Nested(RequirementSchema))
    actions = fields.List(fields.Nested(ActionSchema))


class ParticipationSchema(ParticipationSummarySchema):
    requirements = fields.List(fields.Nested(RequirementSchema), metadata={
        'description': "the current stage's checklist with the team's evidence"})
    actions = fields.List(fields.Nested(ActionSchema))


class ScoreSchema(Schema):
    judge_id = fields.Integer()
    judge_name = fields.String(allow_none=True)
    criteria = fields.Dict()
    total = fields.Float()
    scored_at = UTCDateTime()


class ObjectionSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    lodged_at = UTCDateTime()
    resolution = fields.String(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)


class DecisionSchema(Schema):
    id = fields.Integer()
    doc_number = fields.String()
    title = fields.String()
    year = fields.Integer()
    issued_at = UTCDateTime()
    application_ids = fields.List(fields.Integer())


class BranchProgressSchema(Schema):
    branch_id = fields.Integer()
    name = fields.String()
    taking = fields.Integer(metadata={'description': 'teams taking part'})
    total = fields.Integer()
    percent = fields.Integer()


class ProgressSchema(Schema):
    campaign_id = fields.Integer()
    stage = fields.String()
    target = fields.Integer(metadata={'description': 'percent of teams the stage needs'})
    taking = fields.Integer()
    total = fields.Integer()
    percent = fields.Integer()
    branches = fields.List(fields.Nested(BranchProgressSchema))


class ProblemSchema(Schema):
    seq = fields.Integer()
    text = fields.String()


class IntegritySchema(Schema):
    ok = fields.Boolean()
    checked = fields.Integer(metadata={'description': 'records verified'})
    head_seq = fields.Integer()
    head_hash = fields.String()
    first_bad_seq = fields.Integer(allow_none=True)
    problems = fields.List(fields.Nested(ProblemSchema))
    checkpoint = fields.String(metadata={'description': 'the current checkpoint: keep it outside the database'})


class ApplicationSchema(ApplicationSummarySchema):
    statement = fields.String()
    decision = fields.Nested(DecisionSchema, allow_none=True)
    scores = fields.List(fields.Nested(ScoreSchema))
    objections = fields.List(fields.Nested(ObjectionSchema))
    actions = fields.List(fields.Nested(ActionSchema))


class InnovationSchema(InnovationSummarySchema):
    summary = fields.String()
    actions = fields.List(fields.Nested(ActionSchema))


class TeamDetailSchema(TeamSchema):
    members = fields.Integer(metadata={'description': 'number of members'})
    campaigns = fields.List(fields.Nested(CampaignSummarySchema), metadata={'description': "the unit's campaigns"})
    participations = fields.List(fields.Nested(ParticipationSummarySchema))


class AuditRecordSchema(Schema):
    seq = fields.Integer()
    occurred_at = UTCDateTime()
    object_type = fields.String()
    object_id = fields.Integer()
    event = fields.String()
    event_label = Label()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    payload = fields.Dict()
    hash = fields.String()
    integrity = fields.String(allow_none=True, metadata={
        'description': "intact, erased (personal data erased on request) or tampered (the record or its personal "
                       "part does not match the audit chain: do not trust its name or reason)"})


class InboxItemSchema(Schema):
    object_type = fields.String()
    id = fields.Integer()
    state = fields.String()
    state_label = Label()
    version = fields.Integer()
    team = fields.Nested(TeamSchema)
    waiting_since = UTCDateTime()
    overdue = fields.Boolean()
    actions = fields.List(fields.Nested(ActionSchema))


def page_of(item_schema, cursor='next_after'):
    """A page of items with the cursor of the next page (null on the last one)."""
    name = item_schema.__name__.replace('Schema', 'PageSchema')
    return Schema.from_dict({'items': fields.List(fields.Nested(item_schema)),
                             cursor: fields.Integer(allow_none=True)}, name=name)


TeamPageSchema = page_of(TeamSchema)
CampaignPageSchema = page_of(CampaignSummarySchema)
ParticipationPageSchema = page_of(ParticipationSummarySchema)
ApplicationPageSchema = page_of(ApplicationSummarySchema)
InnovationPageSchema = page_of(InnovationSummarySchema)
AuditPageSchema = page_of(AuditRecordSchema, 'next_before')
HistorySchema = Schema.from_dict({'items': fields.List(fields.Nested(AuditRecordSchema))}, name='HistorySchema')
InboxSchema = Schema.from_dict({'count': fields.Integer(), 'items': fields.List(fields.Nested(InboxItemSchema))},
                               name='InboxSchema')
UnitListSchema = Schema.from_dict({'items': fields.List(fields.Nested(UnitSchema))}, name='UnitListSchema')
BranchListSchema = Schema.from_dict({'items': fields.List(fields.Nested(BranchSchema))}, name='BranchListSchema')

EVENTS = sorted({t.event for wf in workflows.LATEST.values() for t in wf.transitions})
