"""Checks a workflow definition before anything runs it: a broken definition fails loudly at import."""
from .rules import SCOPES


class DefinitionError(ValueError):
    pass


KNOWN_ROLES = {'team_leader', 'branch_chair', 'party_secretary', 'union_staff', 'auditor', 'system', '*'}
KNOWN_REQUIRES = {'reason'}


def _check_label(label, where, problems):
    if not isinstance(label, dict) or not label.get('zh') or not label.get('en'):
        problems.append(f'{where}: needs a label with "zh" and "en"')


def _check_rules(rules, where, known, problems):
    if not rules:
        problems.append(f'{where}: no permission rule (nobody could fire it)')
    for rule in rules:
        if rule.get('role') not in KNOWN_ROLES:
            problems.append(f'{where}: unknown role {rule.get("role")!r}')
        if rule.get('scope') not in SCOPES:
            problems.append(f'{where}: unknown scope {rule.get("scope")!r}')
        if rule.get('when') and rule['when'] not in known['conditions']:
            problems.append(f'{where}: unknown condition {rule["when"]!r}')


def _reachable(workflow):
    seen, frontier = {workflow.initial}, [workflow.initial]
    while frontier:
        state = frontier.pop()
        for t in workflow.transitions:
            if state in t.sources and t.dest not in seen:
                seen.add(t.dest)
                frontier.append(t.dest)
    return seen


def problems_in(workflow, known):
    """List what is wrong with `workflow`; `known` maps 'guards', 'effects', 'conditions', 'payloads'
    to the names the engine can resolve."""
    problems = []
    names = workflow.state_names
    if len(set(names)) != len(names):
        problems.append('duplicate state names')
    if workflow.initial not in names:
        problems.append(f'initial state {workflow.initial!r} is not a state')
    for state in workflow.states:
        _check_label(state.get('label'), f'state {state["name"]}', problems)
    _check_rules(workflow.create.allowed, f'create {workflow.create.event}', known, problems)
    for t in [workflow.create] + workflow.transitions:
        where = f'transition {t.event} {list(t.sources)}→{t.dest}'
        _check_label(t.label, where, problems)
        for state in list(t.sources) + [t.dest]:
            if state not in names:
                problems.append(f'{where}: unknown state {state!r}')
        if t is not workflow.create:
            _check_rules(t.allowed, where, known, problems)
        problems += [f'{where}: unknown guard {g.name!r}' for g in t.guards if g.name not in known['guards']]
        problems += [f'{where}: unknown effect {e!r}' for e in t.effects if e not in known['effects']]
        problems += [f'{where}: unknown required field {r!r}' for r in t.requires if r not in KNOWN_REQUIRES]
        if t.payload and t.payload not in known['payloads']:
            problems.append(f'{where}: unknown payload schema {t.payload!r}')
        for route in (t.route_if, t.route_unless):
            if route and route not in known['conditions']:
                problems.append(f'{where}: unknown route condition {route!r}')
    unreachable = set(names) - _reachable(workflow)
    problems += [f'state {s!r} is unreachable' for s in sorted(unreachable)]
    for state in names:
        if state not in workflow.final_states and not workflow.events_from(state):
            problems.append(f'state {state!r} is a dead end but not marked final')
        if state in workflow.final_states and workflow.events_from(state):
            problems.append(f'final state {state!r} has outgoing transitions')
    return problems


def validate(workflow, known):
    problems = problems_in(workflow, known)
    if problems:
        raise DefinitionError(f'workflow {workflow.name} v{workflow.version}: ' + '; '.join(problems))
    return workflow
