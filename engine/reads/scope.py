"""What an actor may read, as query conditions for lists: derived from the same VIEW rules that
engine.reads.access.require_view checks one record at a time (a list never shows what a detail page would refuse)."""
from dataclasses import dataclass

from models import Branch, Campaign, Team, Unit
from workflows.rules import VIEW

from engine.door.context import assignments_of

NOTHING = [0]    # ids are >= 1: "IN (0)" matches no row


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    unit_ids: frozenset = frozenset()
    branch_ids: frozenset = frozenset()
    team_ids: frozenset = frozenset()


def view_scope(actor, rules=VIEW):
    """The units, branches and teams in which `actor` may read records (or everything)."""
    if not actor.active:
        return Scope()
    everything, places = False, {'unit': set(), 'branch': set(), 'team': set()}
    assignments = assignments_of(actor)
    for rule in rules:
        if rule.get('when'):
            continue              # conditional rules are decided per record, never for a whole list
        for a in assignments:
            if rule['role'] not in ('*', a.role) or (rule['role'] == '*' and a.role in ('auditor', 'system')):
                continue
            if rule['scope'] == 'global':
                everything = True
            else:
                value = getattr(a, f'{rule["scope"]}_id')
                if value is not None:
                    places[rule['scope']].add(value)
    return Scope(everything, frozenset(places['unit']), frozenset(places['branch']), frozenset(places['team']))


def _ids(values):
    return sorted(values) or NOTHING


def team_condition(scope):
    """A condition on Team joined with Branch: the teams whose records the scope covers (None: all)."""
    if scope.everything:
        return None
    return (Branch.unit.in_(_ids(scope.unit_ids)) | Team.branch.in_(_ids(scope.branch_ids))
            | Team.id.in_(_ids(scope.team_ids)))


def visible_teams(actor):
    query = Team.select(Team, Branch).join(Branch)
    condition = team_condition(view_scope(actor))
    return query if condition is None else query.where(condition)


def visible_branches(actor):
    scope = view_scope(actor)
    query = Branch.select()
    if scope.everything:
        return query
    return query.where(Branch.unit.in_(_ids(scope.unit_ids)) | Branch.id.in_(_ids(scope.branch_ids)))


def visible_units(actor):
    scope = view_scope(actor)
    return Unit.select() if scope.everything else Unit.select().where(Unit.id.in_(_ids(scope.unit_ids)))


def visible_campaigns(actor):
    scope = view_scope(actor)
    return Campaign.select() if scope.everything else Campaign.select().where(Campaign.unit.in_(_ids(scope.unit_ids)))


def visible_records(actor, model):
    """Participations, applications or innovation results of the teams the actor may read."""
    query = model.select(model, Team, Branch).join(Team).join(Branch)
    condition = team_condition(view_scope(actor))
    return query if condition is None else query.where(condition)
