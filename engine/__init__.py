"""The engine's front door: everything web/, the command line and bench/ use, by room (docs/ARCHITECTURE.md).

- door/          create records and fire events: permission, input, guards, machine, versioned write, audit
- actions/       operations through the door: evidence, checklist, commendation decisions, migration, scheduler
- rules/         named guards, effects and input payloads the workflow definitions refer to
- reads/         inboxes, timelines, the audit log, who may see and do what
- chain/         the hash-chained audit history: append, verify, checkpoints, erasure, backups
- organisation/  units, branches, teams, users, roles, API tokens, the organisation import
Shared: errors (refusals), clock (UTC inside, China days for people), names, security_log."""
from engine import clock, names, security_log
from engine.errors import (BadInput, Conflict, EngineError, GuardFailed, InvalidTransition, NotAuthenticated,
                           NotFound, NotPermitted, NotVisible, Throttled)

# the door
from engine.door.machines import validate_all
from engine.door.kinds import KINDS, Kind, kind_named, kind_of
from engine.door.runtime import create, edit_content, fire, load_object, object_type_of

# operations through the door
from engine.actions import scheduler
from engine.actions.checklist import EVIDENCE_KINDS, add_requirement, update_requirement
from engine.actions.commendation import issue_decision
from engine.actions.evidence import MAX_FILE_BYTES, record_evidence, upload_dir
from engine.actions.migration import migrate_records

# reads
from engine.reads.access import actions_for, find_visible, find_visible_attachment, require_auditor
from engine.reads.queries import (LogFilter, audit_log, inbox, public_notices, team_timeline, teams_decisions,
                                  teams_led_by, timeline, user_names)
from engine.reads.scope import visible_branches, visible_campaigns, visible_records, visible_teams, visible_units
from engine.rules import inputs      # the schemas of new records and the field types of every input
from engine.rules.guards import HOLDS_TIER, participation_by_branch

# the audit chain (`audit` and `checkpoints` as namespaces: verify, checkpoint, signed_checkpoint, …)
from engine.chain import audit, checkpoints
from engine.chain.backup import BackupError, backup, database_problem, restore
from engine.chain.privacy import erase_person

# the organisation and its people (`org` and `tokens` as namespaces too)
from engine.organisation import org, tokens
from engine.organisation.org import (assign_role, check_password, create_unit, get_or_create_user, hash_password,
                                     set_password)
from engine.organisation.org_import import ImportFailed, import_bytes, import_file
from engine.organisation.tokens import create_token, revoke_token, tokens_of

validate_all()
