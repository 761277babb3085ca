"""One shared `transitions` machine per workflow definition version.

The machine holds no records (model=None): the engine fires `machine.events[event].trigger(record, ctx=…)`
inside its transaction. Guards and route conditions are evaluated once by the engine (to report every
failed guard) and the machine's conditions read those results; effects are its `after` callbacks."""
from functools import lru_cache

from transitions import Machine

import workflows
from workflows.validate import validate

from .effects import EFFECTS
from .guards import GUARDS
from .payloads import PAYLOADS
from .permissions import CONDITIONS

KNOWN = {'guards': set(GUARDS), 'effects': set(EFFECTS), 'conditions': set(CONDITIONS), 'payloads': set(PAYLOADS)}


def _decided(name):
    def condition(event_data):
        return event_data.kwargs['ctx'].passed(name)
    condition.__name__ = name
    return condition


def _run_effect(name):
    def callback(event_data):
        EFFECTS[name](event_data.kwargs['ctx'])
    callback.__name__ = name
    return callback


def _machine_transition(t):
    conditions = [_decided(g.name) for g in t.guards]
    unless = []
    if t.route_if:
        conditions.append(_decided(t.route_if))
    if t.route_unless:
        unless.append(_decided(t.route_unless))
    return {'trigger': t.event, 'source': list(t.sources), 'dest': t.dest, 'conditions': conditions,
            'unless': unless, 'after': [_run_effect(e) for e in t.effects]}


@lru_cache(maxsize=None)
def machine_for(name, version):
    workflow = validate(workflows.get(name, version), KNOWN)
    return Machine(model=None, states=workflow.state_names, initial=workflow.initial,
                   transitions=[_machine_transition(t) for t in workflow.transitions],
                   auto_transitions=False, ignore_invalid_triggers=False, send_event=True)


def validate_all():
    for (name, version) in workflows.DEFINITIONS:
        machine_for(name, version)
