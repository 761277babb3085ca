"""Definitions are data, checked before anything runs them."""
import copy

import pytest

import workflows
from engine.door.machines import KNOWN
from workflows import campaign
from workflows.definition import Workflow
from workflows.validate import DefinitionError, problems_in, validate


@pytest.mark.parametrize('key', sorted(workflows.DEFINITIONS))
def test_shipped_definitions_are_valid(key):
    assert problems_in(workflows.DEFINITIONS[key], KNOWN) == []


def broken(mutate):
    raw = copy.deepcopy(campaign.DEFINITION)
    mutate(raw)
    return problems_in(Workflow.from_dict(raw), KNOWN)


@pytest.mark.parametrize('mutate,problem', [
    (lambda d: d['transitions'][0].update(dest='nowhere'), "unknown state 'nowhere'"),
    (lambda d: d['transitions'][0].update(guards=['is_full_moon']), "unknown guard 'is_full_moon'"),
    (lambda d: d['transitions'][0].update(effects=['send_fax']), "unknown effect 'send_fax'"),
    (lambda d: d['transitions'][0].update(allowed=[]), 'no permission rule'),
    (lambda d: d['transitions'][0].update(allowed=[{'role': 'janitor', 'scope': 'unit'}]), "unknown role"),
    (lambda d: d['transitions'][0].update(allowed=[{'role': 'union_staff', 'scope': 'galaxy'}]), 'unknown scope'),
    (lambda d: d['transitions'][0].update(label={'zh': '启动'}), 'label with "zh" and "en"'),
    (lambda d: d['transitions'][0].update(requires=['signature']), 'unknown required field'),
    (lambda d: d['transitions'][0].update(payload='Nope'), 'unknown payload schema'),
    (lambda d: d['transitions'].pop(), "state 'closed' is unreachable"),
    (lambda d: d['states'].append({'name': 'limbo', 'label': {'zh': '悬', 'en': 'Limbo'}}), "'limbo' is unreachable"),
    (lambda d: d['states'][-1].pop('final'), "'closed' is a dead end"),
    (lambda d: d.update(initial='started'), 'initial state'),
])
def test_validator_catches(mutate, problem):
    problems = broken(mutate)
    assert any(problem in p for p in problems), problems


def test_validate_raises_with_every_problem():
    raw = copy.deepcopy(campaign.DEFINITION)
    raw['transitions'][0]['guards'] = ['a', 'b']
    with pytest.raises(DefinitionError, match="unknown guard 'a'.*unknown guard 'b'"):
        validate(Workflow.from_dict(raw), KNOWN)


def test_definitions_import_nothing_from_models_or_web():
    import pathlib
    for path in pathlib.Path(workflows.__file__).parent.glob('*.py'):
        text = path.read_text(encoding='utf-8')
        assert 'import models' not in text and 'from models' not in text
        assert 'from web' not in text and 'import web' not in text


def test_every_state_and_event_has_both_languages():
    for wf in workflows.LATEST.values():
        for state in wf.state_names:
            assert wf.state_label(state, 'zh') != state and wf.state_label(state, 'en')
        for event in wf.events:
            assert wf.event_label(event, 'zh') != event
