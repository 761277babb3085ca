"""Persistence: peewee models for the organisation, the workflow objects and the audit history."""
from .api import ApiToken
from .audit import AuditHead, AuditPersonal, AuditRecord
from .db import BaseModel, database, is_sqlite, open_database
from .org import ROLES, Branch, Member, RoleAssignment, Team, Unit, User, utcnow
from .security import KnownAddress, LoginAttempt, UserSession
from . import audit_guards
from .schema import ALL_MODELS, GENESIS_HASH, create_schema, drop_schema, schema_exists
from .workflow import (INNOVATION_TOPICS, TIERS, Application, Attachment, Campaign,
                       CommendationDecision, Evidence, InnovationResult, Objection, Participation,
                       Requirement, Score, WorkflowRecord)
