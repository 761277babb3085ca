"""State diagrams drawn from the workflow definitions (Mermaid text, rendered in the page by the vendored
mermaid.js), with the object's current state highlighted."""
import re

import workflows
from engine import KINDS

from .helpers import lang


def workflow_of(object_type, record=None):
    name = KINDS[object_type].workflow
    return workflows.get(name, record.workflow_version if record is not None else None)


def _node(state):
    return re.sub(r'\W', '_', state)


def _text(text):
    return text.replace('"', "'").replace(':', '：').replace(';', '；')


def mermaid(object_type, version=None, current=None):
    workflow = KINDS[object_type].definition(version)
    language = lang()
    lines = ['stateDiagram-v2', '  direction LR']
    for state in workflow.states:
        lines.append(f'  state "{_text(state["label"][language])}" as {_node(state["name"])}')
    lines.append(f'  [*] --> {_node(workflow.initial)}')
    seen = set()
    for t in workflow.transitions:
        for source in t.sources:
            key = (source, t.dest, t.event)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f'  {_node(source)} --> {_node(t.dest)} : {_text(t.label[language])}')
    for state in workflow.final_states:
        lines.append(f'  {_node(state)} --> [*]')
    if current:
        lines.append('  classDef current fill:#1677ff,color:#fff,stroke:#0b4fd6,stroke-width:3px')
        lines.append(f'  class {_node(current)} current')
    return '\n'.join(lines)
