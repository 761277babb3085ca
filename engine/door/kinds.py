"""Each kind of workflow object, described once: its model, its workflow, the schema of a new record, where it
sits in the organisation and what a new record gets beyond its input. Everything that handles "any workflow
object" — loading, permissions, the inbox, timelines, the audit log, labels, diagrams — reads this registry, so
adding a kind is one entry here (docs/ARCHITECTURE.md)."""
from dataclasses import dataclass
from typing import Callable

import workflows
from models import Application, Campaign, InnovationResult, Participation

from engine.errors import NotFound
from engine.rules.inputs import NewApplication, NewCampaign, NewInnovation, NewParticipation


@dataclass(frozen=True)
class Kind:
    name: str                      # the object type in URLs, the API and the audit history
    model: type
    workflow: str                  # its definition's name in workflows/
    new_record: type               # marshmallow schema of the input that creates one
    owned_by_team: bool = True     # belongs to a team (else to a unit, like a campaign)
    on_create: Callable = None     # fills the fields a new record derives from its input

    @property
    def label(self):
        return workflows.get(self.workflow).label

    def definition(self, version=None):
        return workflows.get(self.workflow, version)


def _first_stage(record):
    record.stage = workflows.STAGES[0]


def _requested_tier(record):
    record.requested_tier = record.tier


KINDS = {kind.name: kind for kind in (
    Kind('campaign', Campaign, 'campaign', NewCampaign, owned_by_team=False),
    Kind('participation', Participation, 'participation', NewParticipation, on_create=_first_stage),
    Kind('application', Application, 'application', NewApplication, on_create=_requested_tier),
    Kind('innovation', InnovationResult, 'innovation', NewInnovation),
)}
KIND_OF_MODEL = {kind.model: kind for kind in KINDS.values()}


def kind_named(object_type):
    """The kind of that name, or NotFound."""
    kind = KINDS.get(object_type)
    if kind is None:
        raise NotFound(f'未知对象类型 {object_type!r} (unknown object type)')
    return kind


def kind_of(record):
    """The kind of a record, or None when it is not a workflow object (a team, a branch …)."""
    return KIND_OF_MODEL.get(type(record))
