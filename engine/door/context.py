"""Everything a permission rule, guard or effect may look at while one event is being fired."""
from dataclasses import dataclass, field
from functools import cached_property

from models import Branch, Campaign, RoleAssignment, Team, Unit

from engine.door.statements import roles_and_memberships


@dataclass(frozen=True)
class Place:
    """Where an object sits in the organisation."""
    unit_id: int
    branch_id: int = None
    team_id: int = None


def place_of(record):
    if hasattr(record, 'place_unit_id'):        # loaded with its place (engine.door.statements.load_with_place)
        return Place(record.place_unit_id, record.place_branch_id, record.place_team_id)
    if isinstance(record, Campaign):
        return Place(record.unit_id)
    if isinstance(record, Unit):
        return Place(record.id)
    if isinstance(record, Branch):
        return Place(record.unit_id, record.id)
    team_id = record.id if isinstance(record, Team) else record.team_id
    row = (Team.select(Team.id, Team.branch, Branch.unit).join(Branch)
           .where(Team.id == team_id).tuples().first())
    return Place(row[2], row[1], row[0])


def assignments_of(user):
    return list(RoleAssignment.select().where(RoleAssignment.user == user))


@dataclass
class ActionContext:
    record: object
    workflow: object
    actor: object
    place: Place
    transition: object = None
    reason: str = None
    payload: dict = field(default_factory=dict)
    override: bool = False
    now: object = None
    role: str = None            # the role the actor is acting in, once authorised
    overriding: bool = False    # acting under an override rule or past an overridable guard
    requested_reason: str = None     # the input as given, checked against the transition (engine.door.steps)
    requested_payload: dict = None
    failed_guards: list = field(default_factory=list)   # guards passed by an override

    @cached_property
    def _roles(self):
        return roles_and_memberships(self.actor.id)

    @property
    def assignments(self):
        return self._roles[0]

    @property
    def is_own_team(self):
        """The actor leads the object's team or is one of its members (reviews of it are not theirs)."""
        team_id = self.place.team_id
        if team_id is None:
            return False
        return team_id in self._roles[1] or any(a.role == 'team_leader' and a.team_id == team_id
                                                for a in self.assignments)

    @cached_property
    def unit(self):
        return Unit.get_by_id(self.place.unit_id)

    @cached_property
    def campaign(self):
        return self.record if isinstance(self.record, Campaign) else Campaign.get_by_id(self.record.campaign_id)
