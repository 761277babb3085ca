"""Objects that run through a state machine: campaigns, participations, applications, innovation results.

Their `state` and `version` columns are written only by the engine (engine.door.runtime)."""
from peewee import (AutoField, CharField, DateTimeField, FloatField, ForeignKeyField,
                    IntegerField, TextField, BooleanField)

from .db import BaseModel, JSONField
from .org import Team, Unit, User, utcnow


class WorkflowRecord(BaseModel):
    """Columns every machine-driven record has: its state, an optimistic-lock version and the
    version of the workflow definition it started on."""
    state = CharField(max_length=30, index=True)
    version = IntegerField(default=1)
    workflow_version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    state_since = DateTimeField(default=utcnow)


class Campaign(WorkflowRecord):
    id = AutoField()
    unit = ForeignKeyField(Unit, backref='campaigns', on_delete='RESTRICT')
    title = CharField(max_length=200)
    period = CharField(max_length=20)          # e.g. "2025-2027"
    settings = JSONField(default=dict)          # targets, windows, rubric, quotas, notice days

    class Meta:
        indexes = ((('unit', 'period'), True),)

    def setting(self, key, default=None):
        return (self.settings or {}).get(key, default)


class Requirement(BaseModel):
    """One checklist item of a stage (e.g. one of the 六个一), copied per campaign and editable."""
    id = AutoField()
    campaign = ForeignKeyField(Campaign, backref='requirements', on_delete='CASCADE')
    stage = CharField(max_length=20)
    code = CharField(max_length=40)
    title_zh = CharField(max_length=200)
    title_en = CharField(max_length=200)
    description = TextField(default='')
    cadence = CharField(max_length=100, default='')
    evidence_kind = CharField(max_length=20, default='text_or_file')
    position = IntegerField(default=0)
    active = BooleanField(default=True)

    class Meta:
        indexes = ((('campaign', 'stage', 'code'), True),)


class Participation(WorkflowRecord):
    """A team's part in a campaign: enrolment, then one review per stage."""
    id = AutoField()
    team = ForeignKeyField(Team, backref='participations', on_delete='RESTRICT')
    campaign = ForeignKeyField(Campaign, backref='participations', on_delete='RESTRICT')
    stage = CharField(max_length=20)                 # the stage being worked on
    reached_stage = CharField(max_length=20, null=True)  # the highest stage approved
    submitted_at = DateTimeField(null=True)

    class Meta:
        # (team, state): an inbox finds the waiting records of its teams, not every team's (schema version 3)
        indexes = ((('team', 'campaign'), True), (('team', 'state'), False))


class Evidence(BaseModel):
    """What a team shows for one requirement; locked while under review."""
    id = AutoField()
    participation = ForeignKeyField(Participation, backref='evidence', on_delete='CASCADE')
    requirement = ForeignKeyField(Requirement, backref='evidence', on_delete='RESTRICT')
    text = TextField(default='')
    status = CharField(max_length=20, default='draft')   # draft, submitted, accepted, returned
    review_comment = TextField(null=True)
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, on_delete='SET NULL')

    class Meta:
        indexes = ((('participation', 'requirement'), True),)

    @property
    def is_present(self):
        return bool(self.text.strip()) or self.attachments.count() > 0


class Attachment(BaseModel):
    id = AutoField()
    evidence = ForeignKeyField(Evidence, backref='attachments', on_delete='CASCADE')
    filename = CharField(max_length=200)
    content_type = CharField(max_length=100)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    uploaded_at = DateTimeField(default=utcnow)
    uploaded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')


TIERS = ('learning_team', 'excellent_team', 'model_team')   # 学习型班组, 学习型优胜班组, 学习型标兵班组


class CommendationDecision(BaseModel):
    """A 表彰决定: one document number covering many commended teams."""
    id = AutoField()
    unit = ForeignKeyField(Unit, on_delete='RESTRICT')
    year = IntegerField()
    doc_number = CharField(max_length=60, unique=True)
    title = CharField(max_length=200)
    issued_at = DateTimeField(default=utcnow)
    issued_by = ForeignKeyField(User, null=True, on_delete='SET NULL')


class Application(WorkflowRecord):
    """A team's 申报 for one tier of commendation in one year."""
    id = AutoField()
    team = ForeignKeyField(Team, backref='applications', on_delete='RESTRICT')
    campaign = ForeignKeyField(Campaign, backref='applications', on_delete='RESTRICT')
    year = IntegerField()
    tier = CharField(max_length=20)
    requested_tier = CharField(max_length=20)
    statement = TextField(default='')
    total_score = FloatField(null=True)
    submitted_at = DateTimeField(null=True)
    notice_ends_at = DateTimeField(null=True)
    decision = ForeignKeyField(CommendationDecision, null=True, backref='applications',
                               on_delete='RESTRICT')

    class Meta:
        indexes = ((('team', 'year', 'requested_tier'), True), (('campaign', 'year', 'tier', 'state'), False),
                   (('team', 'state'), False))


class Score(BaseModel):
    """One judge's rubric scores for one application."""
    id = AutoField()
    application = ForeignKeyField(Application, backref='scores', on_delete='CASCADE')
    judge = ForeignKeyField(User, on_delete='RESTRICT')
    criteria = JSONField()
    total = FloatField()
    scored_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((('application', 'judge'), True),)


class Objection(BaseModel):
    """An objection lodged during the 公示 notice period; the union must resolve it."""
    id = AutoField()
    application = ForeignKeyField(Application, backref='objections', on_delete='CASCADE')
    lodged_by = ForeignKeyField(User, on_delete='RESTRICT')
    text = TextField()
    lodged_at = DateTimeField(default=utcnow)
    resolution = CharField(max_length=20, null=True)   # upheld, dismissed
    resolved_at = DateTimeField(null=True)


INNOVATION_TOPICS = ('management', 'quality', 'cost', 'efficiency')   # 管理 质量 成本 工效


class InnovationResult(WorkflowRecord):
    id = AutoField()
    team = ForeignKeyField(Team, backref='innovations', on_delete='RESTRICT')
    campaign = ForeignKeyField(Campaign, backref='innovations', on_delete='RESTRICT')
    year = IntegerField()
    title = CharField(max_length=200)
    topic = CharField(max_length=20)
    summary = TextField(default='')
    published_at = DateTimeField(null=True)

    class Meta:
        indexes = ((('team', 'state'), False),)
