"""One shared `transitions` machine per workflow definition version: the one interpreter of a definition.

The machine holds no records (model=None): the engine fires `machine.events[event].trigger(record, ctx=…)`
inside its transaction. For each transition of the event from the record's state, in definition order, the
machine checks the route conditions (route_if / route_unless); the first whose route holds is admitted
(engine.door.steps: permission, input, guards — a refusal is raised from there) and taken; its effects are the
`after` callbacks. No route holding: the trigger returns False."""
from functools import lru_cache

from transitions import Machine

import workflows
from workflows.validate import validate

from engine.door import steps
from engine.rules.effects import EFFECTS
from engine.rules.guards import GUARDS
from engine.rules.payloads import PAYLOADS
from engine.door.permissions import CONDITIONS

KNOWN = {'guards': set(GUARDS), 'effects': set(EFFECTS), 'conditions': set(CONDITIONS), 'payloads': set(PAYLOADS)}


def _route(name, wanted):
    def condition(event_data):
        return (CONDITIONS[name](event_data.kwargs['ctx']) is True) is wanted
    condition.__name__ = f'{"route_if" if wanted else "route_unless"}_{name}'
    return condition


def _admit(transition):
    def condition(event_data):
        steps.admit(transition, event_data.kwargs['ctx'])
        return True
    condition.__name__ = f'admit_{transition.event}'
    return condition


def _run_effect(name):
    def callback(event_data):
        EFFECTS[name](event_data.kwargs['ctx'])
    callback.__name__ = name
    return callback


def _machine_transition(t):
    # Routes first, in this order, so that only the transition that will fire is authorised and guarded.
    conditions = []
    if t.route_if:
        conditions.append(_route(t.route_if, True))
    if t.route_unless:
        conditions.append(_route(t.route_unless, False))
    conditions.append(_admit(t))
    return {'trigger': t.event, 'source': list(t.sources), 'dest': t.dest, 'conditions': conditions,
            'after': [_run_effect(e) for e in t.effects]}


@lru_cache(maxsize=None)
def machine_for(name, version):
    workflow = validate(workflows.get(name, version), KNOWN)
    return Machine(model=None, states=workflow.state_names, initial=workflow.initial,
                   transitions=[_machine_transition(t) for t in workflow.transitions],
                   auto_transitions=False, ignore_invalid_triggers=False, send_event=True)


def validate_all():
    for (name, version) in workflows.DEFINITIONS:
        machine_for(name, version)
