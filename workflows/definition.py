"""A read-only view over one workflow definition dict, with the look-ups the engine and UI need."""
from dataclasses import dataclass, field


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class GuardRef:
    name: str
    overridable: bool = False


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple
    dest: str
    label: dict
    allowed: tuple
    guards: tuple = ()
    effects: tuple = ()
    requires: tuple = ()
    payload: str = None
    review: bool = False
    route_if: str = None
    route_unless: str = None
    todo: bool = True          # shows in the inbox of those who may fire it

    @classmethod
    def from_dict(cls, d):
        guards = tuple(GuardRef(g) if isinstance(g, str) else GuardRef(g['name'], g.get('overridable', False))
                       for g in d.get('guards', ()))
        return cls(event=d['event'], sources=tuple(_as_list(d['source'])), dest=d['dest'], label=d['label'],
                   allowed=tuple(d.get('allowed', ())), guards=guards, effects=tuple(d.get('effects', ())),
                   requires=tuple(d.get('requires', ())), payload=d.get('payload'), review=d.get('review', False),
                   route_if=d.get('route_if'), route_unless=d.get('route_unless'), todo=d.get('todo', True))


@dataclass
class Workflow:
    name: str
    version: int
    label: dict
    initial: str
    states: list
    transitions: list
    create: Transition
    raw: dict = field(repr=False)

    @classmethod
    def from_dict(cls, d):
        create = d['create']
        create_transition = Transition.from_dict({**create, 'source': [], 'dest': d['initial']})
        return cls(name=d['name'], version=d['version'], label=d['label'], initial=d['initial'],
                   states=list(d['states']), transitions=[Transition.from_dict(t) for t in d['transitions']],
                   create=create_transition, raw=d)

    @property
    def state_names(self):
        return [s['name'] for s in self.states]

    @property
    def public_states(self):
        """States in which anyone in the unit may read the record (e.g. an application under 公示)."""
        return {s['name'] for s in self.states if s.get('public')}

    @property
    def final_states(self):
        return {s['name'] for s in self.states if s.get('final')}

    @property
    def events(self):
        return sorted({t.event for t in self.transitions})

    def state_label(self, state, lang='zh'):
        for s in self.states:
            if s['name'] == state:
                return s['label'][lang]
        return state

    def event_label(self, event, lang='zh'):
        if event == self.create.event:
            return self.create.label[lang]
        for t in self.transitions:
            if t.event == event:
                return t.label[lang]
        return event

    def candidates(self, state, event):
        """The transitions for `event` that may leave `state`, in declaration order."""
        return [t for t in self.transitions if t.event == event and state in t.sources]

    def events_from(self, state):
        seen = []
        for t in self.transitions:
            if state in t.sources and t.event not in seen:
                seen.append(t.event)
        return seen
