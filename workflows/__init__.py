"""Declarative, versioned definitions of every state machine. Pure data: no I/O, no models."""
from . import application, campaign, innovation, participation
from .definition import Transition, Workflow
from .stages import STAGES, STAGE_LABELS

# (name, version) → Workflow. A record keeps the version it started on; add new versions beside old ones.
DEFINITIONS = {}
for _module in (campaign, participation, application, innovation):
    _wf = Workflow.from_dict(_module.DEFINITION)
    DEFINITIONS[(_wf.name, _wf.version)] = _wf

LATEST = {}
for (_name, _version), _wf in sorted(DEFINITIONS.items()):
    LATEST[_name] = _wf


def get(name, version=None):
    if version is None:
        return LATEST[name]
    return DEFINITIONS[(name, version)]
