"""The runtime: fires transitions, checks guards and permissions, writes the audit history."""
from .errors import BadInput, Conflict, EngineError, GuardFailed, InvalidTransition, NotFound, NotPermitted
from .evidence import record_evidence
from .machines import validate_all
from .runtime import create, fire, load_object

validate_all()
