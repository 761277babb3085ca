"""Creating the schema, including the database-level guards that keep the audit table append-only."""
import datetime

from .api import ApiToken
from .audit import AuditHead, AuditPersonal, AuditRecord, SchemaInfo
from .audit_guards import guard_statements, install_guards
from .db import database
from .org import Branch, Member, RoleAssignment, Team, Unit, User
from .security import KnownAddress, LoginAttempt, UserSession
from .workflow import (Application, Attachment, Campaign, CommendationDecision, Evidence,
                       InnovationResult, Objection, Participation, Requirement, Score)

# 2: login_attempt (login throttling); 3: indexes for inboxes and the audit log at scale; 4: user_session (several
# sessions per person), login_known_address (throttling per username and address), user.session_nonce dropped
SCHEMA_VERSION = 4
GENESIS_HASH = '0' * 64

ALL_MODELS = [Unit, Branch, Team, User, Member, RoleAssignment, Campaign, Requirement, Participation,
              Evidence, Attachment, CommendationDecision, Application, Score, Objection,
              InnovationResult, AuditRecord, AuditPersonal, AuditHead, SchemaInfo, ApiToken, LoginAttempt,
              KnownAddress, UserSession]

def create_schema():
    """Create every table, the audit guards (models.audit_guards) and the chain head (idempotent)."""
    with database.atomic():
        database.create_tables(ALL_MODELS, safe=True)
        install_guards()
        if not AuditHead.select().exists():
            AuditHead.create(id=1, seq=0, hash=GENESIS_HASH)
        if not SchemaInfo.select().exists():
            SchemaInfo.create(version=SCHEMA_VERSION,
                              applied_at=datetime.datetime.now(datetime.timezone.utc).isoformat())


def schema_statements():
    """The DDL of the current models for the bound database: tables, indexes, append-only triggers.
    Used to freeze a released schema (tests/data/schema_v*.sql) so upgrades from it stay tested."""
    statements = []
    for model in ALL_MODELS:
        statements.append(model._schema._create_table(safe=True).query()[0])
        statements += [index.query()[0] for index in model._schema._create_indexes(safe=True)]
    return statements + guard_statements()


def schema_exists():
    return AuditHead.table_exists()


def drop_schema():
    database.drop_tables(ALL_MODELS, safe=True)
