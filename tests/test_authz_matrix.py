"""The authorisation matrix: every route of the app (UI and JSON API, from `app.url_map`) × every person of the
test organisation (and a signed-out visitor) × objects inside and outside their scope — another team of the
same branch, another branch, another unit — compared with the rule tests/authz_rules.py gives the route in
product terms. Acting on objects (POST /act/…, POST /api/v1/objects/…/events/…, bulk approval) is checked
for every event from every state of the four workflow definitions, with the expectation written from the
definitions' rule data (role + scope + `review` + the routing of a chair's own team), not computed by the
engine, so an engine bug shows up as a mismatch. Also: with a stale version, whoever may not act still gets
403 or 404 (never 409 with the current version); and the actions offered on a detail page and by the API's
/actions are exactly those the definitions allow.

How a response is classified (docs/reliability/authorization.md):
    allow    2xx, or 3xx that does not lead to /login
    deny     403: the person may see the object (or the route names none) but may not do this
    hidden   404: the person may not see the object the route names at all — answered exactly as for an object
             that does not exist (tests/test_authz_existence.py compares the two byte for byte); also other
             people's API tokens (`own_account`)
    login    UI: a redirect to /login; API: 401
    anything else (400, 409, 422, 5xx …) is a mismatch: the matrix sends valid input, so an allowed request
    must succeed and a refused one must be refused for its authorisation, not for something else.
    (Bulk approval answers 303 either way: there the object changing or not tells allowed from denied.)

Speed: one organisation (conftest.World) for the module, every person signed in once; each test builds its
objects inside a transaction and every single request runs inside a savepoint that is rolled back afterwards,
so each request sees the same untouched objects (about 11,000 requests, 45 s of CPU). Works the same on
SQLite and PostgreSQL ($TEST_DATABASE_URL)."""
import contextlib
import dataclasses
import io
import re
import urllib.parse

import pytest
from flask import url_for
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import engine
import workflows
from engine.organisation import org
from engine.organisation import tokens
from models import (Attachment, Campaign, CommendationDecision, Evidence, Objection, Participation,
                    Requirement, Unit, UserSession, create_schema, database, open_database)
from web import sessions
from web.views.review import BULK_EVENTS

from authz_rules import RULE_NAMES, RULES
from conftest import World, _url, set_state
from scenarios import FULL_SCORES, LONG_AGO, application_in, innovation_in, participation_in
from web_fixtures import PASSWORD, login, make_app, quick_passwords

# --- the people of conftest.World, in product terms (written by hand, not read from the database) -------------

ORG = {   # team or branch: (unit, branch)
    't1': ('HY', 'b1'), 't2': ('HY', 'b1'), 't3': ('HY', 'b2'), 'ot': ('KY', 'ob'),
    'b1': ('HY', 'b1'), 'b2': ('HY', 'b2'), 'ob': ('KY', 'ob'),
}
PEOPLE = {
    'leader1': [('team_leader', 't1')],
    'leader3': [('team_leader', 't3')],
    'chair1': [('branch_chair', 'b1'), ('team_leader', 't2')],      # chairs 一分会 and leads 装卸二班
    'chair2': [('branch_chair', 'b2')],
    'secretary1': [('party_secretary', 'b1')],
    'secretary2': [('party_secretary', 'b2')],
    'staff': [('union_staff', 'HY')],
    'staff2': [('union_staff', 'HY')],                               # …and a member of 装卸一班 (below)
    'other_staff': [('union_staff', 'KY')],
    'auditor': [('auditor', None)],
    'other_leader': [('team_leader', 'ot')],
}
ANON = 'anonymous'
ROLES = list(PEOPLE) + [ANON]
MEMBERS = {'t1': {'leader1', 'staff2'}, 't2': {'chair1'}, 't3': {'leader3'}, 'ot': {'other_leader'}}
CHAIRS_OWN_TEAMS = {'t2'}          # a chair of 一分会 (chair1) belongs to 装卸二班
TEAM_LEADERS = {'t1': 'leader1', 't2': 'chair1', 't3': 'leader3', 'ot': 'other_leader'}
UNIT_STAFF = {'HY': 'staff', 'KY': 'other_staff'}
TEAM_KEYS = ('t1', 't2', 't3', 'ot')
TEAM_LABELS = {'t1': '装卸一班', 't2': 'same branch, chair1 leads it', 't3': 'other branch', 'ot': 'other unit'}


@dataclasses.dataclass(frozen=True)
class Place:
    unit: str
    branch: str = None
    team: str = None


def place_of(key):
    """The place of a team ('t1'), branch ('b1') or unit ('HY')."""
    if key in ('HY', 'KY'):
        return Place(key)
    unit, branch = ORG[key]
    return Place(unit, branch, key if key in TEAM_KEYS else None)


def assignment_place(role, at):
    """Where a role assignment sits, its parents filled in (as org.assign_role stores it)."""
    return Place(None) if at is None else place_of(at)


def belongs(who, place):
    return place.team is not None and who in MEMBERS.get(place.team, ())


def holds(who, role, place):
    """`who` holds `role` over `place` in the role's own scope (team leader: the team; chair and secretary:
    the branch; union staff: the unit; auditor: everywhere)."""
    for held, at in PEOPLE.get(who, ()):
        if held != role:
            continue
        mine = assignment_place(held, at)
        if role == 'auditor':
            return True
        if role == 'team_leader' and place.team is not None and mine.team == place.team:
            return True
        if role in ('branch_chair', 'party_secretary') and place.branch is not None and mine.branch == place.branch:
            return True
        if role == 'union_staff' and mine.unit == place.unit:
            return True
    return False


def in_unit(who, place):
    return any(at is not None and assignment_place(role, at).unit == place.unit for role, at in PEOPLE.get(who, ()))


def may_view(who, target):
    """SPEC §2: a team's records are read by its leader, its branch's chair and secretary, its unit's union
    staff and auditors; records in a public state by anyone in the unit too. A campaign belongs to the unit."""
    place = target.place
    if target.kind == 'campaign' or target.kind == 'unit':
        return holds(who, 'union_staff', place) or holds(who, 'auditor', place)
    if target.kind == 'branch':
        roles = ('branch_chair', 'party_secretary', 'union_staff', 'auditor')
    else:
        roles = ('team_leader', 'branch_chair', 'party_secretary', 'union_staff', 'auditor')
    if any(holds(who, role, place) for role in roles):
        return True
    return target.public and in_unit(who, place)


NAMES_AN_OBJECT = ('participation', 'application', 'innovation', 'campaign', 'team', 'branch')


def expected(rule, who, target):
    """What `rule` (tests/authz_rules.py) lets `who` do with `target`: allow, deny, hidden or login. Whoever may
    not see the object a route names gets `hidden` (404, as if it did not exist), whatever the route's rule."""
    if rule == 'public':
        return 'allow'
    if who == ANON:
        return 'login'
    yes = {True: 'allow', False: 'deny'}
    if rule == 'any_signed_in':
        return 'allow'
    if rule == 'own_account':
        return 'allow' if target.owner in (None, who) else 'hidden'
    if target.kind in NAMES_AN_OBJECT and not may_view(who, target):
        return 'hidden'
    if rule.startswith('view('):
        return 'allow'
    if rule == 'branch_officer':
        return yes[any(role in ('branch_chair', 'party_secretary') for role, _ in PEOPLE[who])]
    if rule == 'team_leader_of(team)':
        return yes[holds(who, 'team_leader', target.place)]
    if rule == 'union_staff':
        return yes[any(role == 'union_staff' for role, _ in PEOPLE[who])]
    if rule == 'union_staff_of(unit)':
        return yes[holds(who, 'union_staff', target.place)]
    if rule == 'auditor':
        return yes[holds(who, 'auditor', target.place)]
    raise AssertionError(f'the matrix does not know the rule {rule!r}: teach tests/test_authz_matrix.expected')


# --- firing events: the expectation from the definitions' rule data --------------------------------------------

KNOWN_CONDITIONS = {'is_not_chairs_own_team', 'is_routed_to_secretary', 'is_routed_to_union'}


def rule_admits(rule, who, place, chair_team_reviewer):
    """One `allowed` rule of a transition ({'role', 'scope', 'when', 'override'}) read as the product says."""
    when = rule.get('when')
    assert when in KNOWN_CONDITIONS | {None}, \
        f'a definition uses the condition {when!r}: write its meaning into tests/test_authz_matrix.rule_admits'
    for role, at in PEOPLE.get(who, ()):
        if rule['role'] == '*':
            if role in ('auditor', 'system'):
                continue
        elif rule['role'] != role:
            continue
        mine = assignment_place(role, at)
        scope = rule['scope']
        if scope == 'global':
            pass
        elif scope in ('unit', 'branch', 'team'):
            if getattr(mine, scope) is None or getattr(mine, scope) != getattr(place, scope):
                continue
        else:
            raise AssertionError(f'unknown scope {scope!r} in a definition')
        if when == 'is_not_chairs_own_team' and belongs(who, place):
            continue
        if when == 'is_routed_to_secretary' and not (chair_team_reviewer == 'party_secretary'
                                                     and place.team in CHAIRS_OWN_TEAMS):
            continue
        if when == 'is_routed_to_union' and not (chair_team_reviewer == 'union_staff'
                                                 and place.team in CHAIRS_OWN_TEAMS):
            continue
        return True
    return False


def may_fire(transition, who, place, chair_team_reviewer='party_secretary', visible=True):
    if who == ANON:
        return 'login'
    if not visible:
        return 'hidden'            # who may not see the object: as if it did not exist
    if transition.review and belongs(who, place):
        return 'deny'              # nobody reviews their own team, whatever their role
    admitted = any(rule_admits(r, who, place, chair_team_reviewer) for r in transition.allowed)
    return 'allow' if admitted else 'deny'


# --- the test organisation behind one app, for the whole module ------------------------------------------------

@dataclasses.dataclass
class Target:
    name: str
    kind: str                  # participation, application, innovation, campaign, team, branch, unit, token, none
    place: Place = None
    values: dict = dataclasses.field(default_factory=dict)     # URL values
    public: bool = False
    owner: str = None          # own_account: whose token
    record: object = None
    key: str = None            # the team ('t1' …) or unit ('HY') it belongs to


COUNTS = {'requests': 0, 'routes': 0, 'event_cases': 0, 'mismatches': 0, 'known': 0}
REQUESTS_BY_PART = {}      # which test made how many requests (the figures of docs/reliability/authorization.md)


class Matrix:
    def __init__(self, app, world):
        self.app, self.world, self.part = app, world, 'setup'
        quick_passwords()
        org.add_member(world.t1, world.staff2.display_name, user=world.staff2)
        self.ky_campaign = engine.create('campaign', world.other_staff, {
            'unit_id': world.other_unit.id, 'title': '创建学习型班组活动', 'period': '2025-2027'})
        self.users = {name: getattr(world, name) for name in PEOPLE}
        self.token_rows, self.secrets = {}, {}
        for name, user in self.users.items():
            self.token_rows[name], self.secrets[name] = tokens.create_token(user, 'authz-matrix')
        self.session_rows = {name: UserSession.get(UserSession.key_hash == sessions.digest(sessions.start(
            user, '10.0.0.9', 'Chrome/120 (Android)', {}))) for name, user in self.users.items()}   # their phones
        self.clients = {ANON: app.test_client()}
        for name in PEOPLE:
            client = app.test_client()
            assert login(client, name).status_code == 302, name
            self.clients[name] = client
        self.api = app.test_client()
        self.teams = {'t1': world.t1, 't2': world.t2, 't3': world.t3, 'ot': world.ot}
        self.branches = {'b1': world.b1, 'b2': world.b2, 'ob': world.ob}
        self.units = {'HY': world.unit, 'KY': world.other_unit}

    # the objects of each test are made inside `scene()` and vanish with it
    @contextlib.contextmanager
    def scene(self, part):
        self.part = part
        with database.atomic() as transaction:
            saved = self.world.campaign, self.ky_campaign
            try:
                yield self
            finally:
                self.world.campaign, self.ky_campaign = saved
                transaction.rollback()

    def campaign(self, unit_key):
        return Campaign.get_by_id((self.world.campaign if unit_key == 'HY' else self.ky_campaign).id)

    def leader(self, team_key):
        return self.users[TEAM_LEADERS[team_key]]

    def unit_of(self, team_key):
        return ORG[team_key][0]

    @contextlib.contextmanager
    def as_campaign_of(self, team_key):
        """scenarios.* build records in world.campaign: point it at the team's unit's campaign."""
        saved = self.world.campaign
        self.world.campaign = self.campaign(self.unit_of(team_key))
        try:
            yield
        finally:
            self.world.campaign = saved

    def launch_both(self):
        self.world.launch()
        self.ky_campaign = engine.fire(self.ky_campaign, 'launch', self.world.other_staff)

    # --- requests ---------------------------------------------------------------------------------------------
    def request(self, who, method, path, fresh=False, **kwargs):
        """One request as `who`, inside a savepoint rolled back afterwards; returns (response, after) where
        `after` is what the `probe` callable (if given) saw before the rollback."""
        probe = kwargs.pop('probe', None)
        prepare = kwargs.pop('prepare', None)
        COUNTS['requests'] += 1
        REQUESTS_BY_PART[self.part] = REQUESTS_BY_PART.get(self.part, 0) + 1
        with database.atomic() as savepoint:
            try:
                if prepare:
                    path, extra = prepare(path)
                    kwargs.update(extra)
                if path.startswith('/api/'):
                    headers = dict(kwargs.pop('headers', {}))
                    if who != ANON:
                        headers['Authorization'] = f'Bearer {self.secrets[who]}'
                    response = self.api.open(path, method=method, headers=headers, **kwargs)
                else:
                    client = self.clients[who]
                    if fresh:
                        client = self.app.test_client()
                        if who != ANON:
                            assert login(client, who).status_code == 302
                    response = client.open(path, method=method, **kwargs)
                after = probe() if probe else None
            finally:
                savepoint.rollback()
        return response, after


def classify(response, api):
    status = response.status_code
    if api and status == 401:
        return 'login'
    if status in (301, 302, 303, 307, 308):
        # login_required sends signed-out visitors to /login?next=…; signing out itself ends on /login too
        location = urllib.parse.urlsplit(response.location or '')
        return 'login' if location.path == '/login' and 'next=' in location.query else 'allow'
    if status == 403:
        return 'deny'
    if status == 404:
        return 'hidden'
    if 200 <= status < 300:
        return 'allow'
    return f'status {status}'


def body_text(response):
    try:
        return response.get_data(as_text=True)[:300].replace('\n', ' ')
    except Exception:      # a binary download
        return ''


@pytest.fixture(scope='module')
def matrix(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('authz')
    url = _url(tmp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('CHUANGZHENG_UPLOADS', str(tmp / 'uploads'))
        db = open_database(url)
        if not url.startswith('sqlite'):
            db.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
            db.execute_sql('CREATE SCHEMA public')
        create_schema()
        app = make_app(tmp)
        world = World()
        real_close = database.obj.close

        def close_outside_transactions():
            # The app closes the connection after each request; inside a test's transaction it must stay open
            # so the request's work can be rolled back.
            return False if database.obj.in_transaction() else real_close()

        patch.setattr(database.obj, 'close', close_outside_transactions)
        yield Matrix(app, world)
    if not database.is_closed():
        database.close()
    if hasattr(database.obj, 'close_all'):
        database.obj.close_all()


class Summary:
    """Prints the matrix's size at the end of the run (the figures docs/reliability/authorization.md quotes)."""

    def pytest_terminal_summary(self, terminalreporter):
        if COUNTS['requests']:
            terminalreporter.write_line(
                f'authorization matrix: {COUNTS["routes"]} routes, {COUNTS["event_cases"]} workflow event cases, '
                f'{COUNTS["requests"]} requests checked, {COUNTS["known"]} known deviations (xfail), '
                f'{COUNTS["mismatches"]} mismatches; requests by part: '
                + ', '.join(f'{part} {n}' for part, n in sorted(REQUESTS_BY_PART.items())))


@pytest.fixture(scope='module', autouse=True)
def summary(request):
    plugin = Summary()
    request.config.pluginmanager.register(plugin, 'authz-matrix-summary')
    yield


# --- 1. the table covers exactly the app's routes ---------------------------------------------------------------

def app_routes(app):
    return {(method, rule.endpoint): rule for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {'HEAD', 'OPTIONS'})}


def test_every_route_has_exactly_one_rule(matrix):
    routes = app_routes(matrix.app)
    missing = sorted(set(routes) - set(RULES))
    stale = sorted(set(RULES) - set(routes))
    message = []
    for method, endpoint in missing:
        message.append(f'{method} {routes[(method, endpoint)].rule} (endpoint {endpoint!r}) has no access rule: add '
                       f"('{method}', '{endpoint}'): '<rule>' to RULES in tests/authz_rules.py "
                       f'(rules: {", ".join(RULE_NAMES)})')
    for method, endpoint in stale:
        message.append(f'tests/authz_rules.py has a rule for {method} {endpoint!r}, which is no route any more: '
                       f'remove it')
    assert not message, '\n'.join(message)
    unknown = {key: rule for key, rule in RULES.items() if rule not in RULE_NAMES}
    assert not unknown, f'rules outside the vocabulary of tests/authz_rules.py: {unknown}'
    acting = {key for key, rule in RULES.items() if rule == 'fire(event)'}
    assert acting == FIRING_ROUTES, (f'routes that fire events: {sorted(acting)}; the event matrix requests '
                                     f'{sorted(FIRING_ROUTES)}: teach tests/test_authz_matrix.fire_requests '
                                     f'the new one')


# --- 2. every route × every person × objects in and out of scope ---------------------------------------------------

def build_read_scene(m):
    """装卸一班's records and the same records of 装卸二班 (same branch), 调度班 (other branch) and 售票班 (other
    unit): a participation with evidence and an attachment, an application waiting for its branch, an innovation
    result; and an application of 装卸一班 under 公示 (a public state)."""
    m.launch_both()
    m.targets = {}
    for key in TEAM_KEYS:
        team, leader, campaign = m.teams[key], m.leader(key), m.campaign(m.unit_of(key))
        place = place_of(key)
        part = engine.create('participation', leader, {'team_id': team.id, 'campaign_id': campaign.id})
        part = set_state(part, 'in_progress')
        requirement = (Requirement.select().where(Requirement.campaign == campaign, Requirement.stage == part.stage)
                       .order_by(Requirement.position, Requirement.id).first())
        engine.record_evidence(part, requirement.id, leader, text='班组愿景材料',
                               add_files=[('愿景.pdf', b'%PDF-1.4 evidence of ' + key.encode())])
        part = Participation.get_by_id(part.id)
        attachment = (Attachment.select().join(Evidence).where(Evidence.participation == part).first())
        app_ = engine.create('application', leader, {'team_id': team.id, 'campaign_id': campaign.id, 'year': 2026,
                                                     'tier': 'learning_team', 'statement': '申报材料'})
        app_ = set_state(app_, 'submitted')
        result = engine.create('innovation', leader, {'team_id': team.id, 'campaign_id': campaign.id, 'year': 2025,
                                                      'title': '装车效率提升', 'topic': 'efficiency',
                                                      'summary': '缩短装车时间'})
        m.targets[('participation', key)] = Target(f'participation of {key}', 'participation', place, record=part,
                                                   key=key)
        m.targets[('application', key)] = Target(f'application of {key}', 'application', place, record=app_, key=key)
        m.targets[('innovation', key)] = Target(f'innovation of {key}', 'innovation', place, record=result, key=key)
        m.targets[('evidence', key)] = Target(f'evidence of {key}', 'participation', place, record=part, key=key,
                                              values={'participation_id': part.id, 'requirement_id': requirement.id})
        m.targets[('attachment', key)] = Target(f'attachment of {key}', 'participation', place, key=key,
                                                values={'attachment_id': attachment.id})
        m.targets[('team', key)] = Target(f'team {key}', 'team', place, key=key, values={'team_id': team.id})
    public = engine.create('application', m.leader('t1'), {
        'team_id': m.teams['t1'].id, 'campaign_id': m.campaign('HY').id, 'year': 2026, 'tier': 'excellent_team',
        'statement': '申报材料'})
    public = set_state(public, 'publicized', notice_ends_at=LONG_AGO)
    m.targets[('application', 't1-public')] = Target('application of t1 under 公示', 'application', place_of('t1'),
                                                     record=public, public=True, key='t1')
    for unit_key in ('HY', 'KY'):
        campaign = m.campaign(unit_key)
        requirement = Requirement.select().where(Requirement.campaign == campaign).order_by(Requirement.id).first()
        m.targets[('campaign', unit_key)] = Target(f'campaign of {unit_key}', 'campaign', Place(unit_key),
                                                   record=campaign, key=unit_key,
                                                   values={'campaign_id': campaign.id,
                                                           'requirement_id': requirement.id})
        m.targets[('unit', unit_key)] = Target(f'unit {unit_key}', 'unit', Place(unit_key), key=unit_key)
    for branch_key, branch in m.branches.items():
        m.targets[('branch', branch_key)] = Target(f'branch {branch_key}', 'branch', place_of(branch_key),
                                                   key=branch_key, values={'branch_id': branch.id})
    for target in m.targets.values():
        if target.record is not None and target.kind in ('participation', 'application', 'innovation', 'campaign'):
            target.values.setdefault('object_type', target.kind)
            target.values.setdefault('object_id', target.record.id)
            target.values.setdefault('record_id', target.record.id)


OBJECT_KINDS = ('participation', 'application', 'innovation', 'campaign')
TYPED_BLUEPRINTS = {'participations': 'participation', 'applications': 'application', 'innovations': 'innovation'}


def targets_for(m, method, endpoint, arguments):
    """The objects a route is requested on, chosen by the values its URL needs."""
    t = m.targets
    if {'object_type', 'object_id'} <= arguments:
        return [v for (kind, _), v in t.items() if kind in OBJECT_KINDS]
    if 'record_id' in arguments:
        kind = TYPED_BLUEPRINTS[endpoint.split('.')[0]]
        return [v for (k, _), v in t.items() if k == kind]
    if 'participation_id' in arguments:
        return [t[('evidence', key)] for key in TEAM_KEYS]
    if 'attachment_id' in arguments:
        return [t[('attachment', key)] for key in TEAM_KEYS]
    if 'campaign_id' in arguments:
        return [t[('campaign', key)] for key in ('HY', 'KY')]
    if 'team_id' in arguments:
        return [t[('team', key)] for key in TEAM_KEYS]
    if 'branch_id' in arguments:
        return [t[('branch', key)] for key in ('b1', 'b2', 'ob')]
    if 'token_id' in arguments:
        return [Target('own token', 'token', owner=None, values={'token_id': 'own'}),
                Target("another person's token", 'token', owner='someone else', values={'token_id': 'other'})]
    if 'session_id' in arguments:
        return [Target('own other session', 'session', owner=None, values={'session_id': 'own'}),
                Target("another person's session", 'session', owner='someone else', values={'session_id': 'other'})]
    if arguments - {'code', 'filename'}:
        raise AssertionError(f'{method} {endpoint}: the matrix does not know how to fill {sorted(arguments)}; '
                             f'teach tests/test_authz_matrix.targets_for')
    # nothing in the URL: the object is named in the body
    rule = RULES[(method, endpoint)]
    if rule == 'team_leader_of(team)':
        return [t[('team', key)] for key in TEAM_KEYS]
    if rule == 'union_staff_of(unit)':
        return [t[('unit', 'HY')], t[('unit', 'KY')]]
    return [Target('-', 'none')]


FIXED_VALUES = {'code': 'en', 'filename': 'app.css'}


def url_values(m, target, who):
    values = {**FIXED_VALUES, **target.values}
    if values.get('token_id') == 'own':
        values['token_id'] = m.token_rows[who if who != ANON else 'leader1'].id
    elif values.get('token_id') == 'other':
        values['token_id'] = m.token_rows['chair1' if who == 'leader1' else 'leader1'].id
    if values.get('session_id') in ('own', 'other'):
        owner = (who if who != ANON else 'leader1') if values['session_id'] == 'own' else (
            'chair1' if who == 'leader1' else 'leader1')
        values['session_id'] = m.session_rows[owner].id
    return values


def new_running_campaign(m, unit_key):
    """A second running campaign of the unit, which none of its teams has joined yet (to enrol in)."""
    staff = m.users[UNIT_STAFF[unit_key]]
    campaign = engine.create('campaign', staff, {'unit_id': m.units[unit_key].id, 'title': '第二期创建活动',
                                                 'period': '2028-2030'})
    return set_state(campaign, 'popularization')


def multipart(fields, files=()):
    values = MultiDict([(k, str(v)) for k, v in fields.items()])
    for name, filename, content in files:
        values.add(name, FileStorage(io.BytesIO(content), filename=filename))
    boundary, body = encode_multipart(values)
    return {'data': body, 'content_type': f'multipart/form-data; boundary={boundary}'}


def if_match(version):
    return {'If-Match': f'"{version}"'}


ORG_CSV = {'HY': '货运处,一分会,装卸一班,新职工甲,N9001,职工,\n', 'KY': '客运处,客运一分会,售票班,新职工乙,N9001,职工,\n'}


def write_request(m, method, endpoint, target, who):
    """The body of a valid write (the matrix checks authorisation, so the input itself is always right), and
    what has to exist first (made inside the request's savepoint)."""
    key = (method, endpoint)
    team_key = target.key
    if key in (('POST', 'team.enrol'), ('POST', 'participations.create')):
        def prepare(path):
            campaign = new_running_campaign(m, m.unit_of(team_key))
            return path, ({} if endpoint == 'team.enrol' else
                          {'json': {'team_id': m.teams[team_key].id, 'campaign_id': campaign.id}})
        return {'prepare': prepare}
    if key == ('POST', 'team.new_application'):
        return {'data': {'campaign_id': m.campaign(m.unit_of(team_key)).id, 'year': 2027, 'tier': 'learning_team',
                         'statement': '新申报'}}
    if key == ('POST', 'applications.create'):
        return {'json': {'team_id': m.teams[team_key].id, 'campaign_id': m.campaign(m.unit_of(team_key)).id,
                         'year': 2027, 'tier': 'learning_team', 'statement': '新申报'}}
    if key == ('POST', 'team.new_innovation'):
        return {'data': {'campaign_id': m.campaign(m.unit_of(team_key)).id, 'year': 2026, 'title': '新成果',
                         'topic': 'quality', 'summary': '成果简介'}}
    if key == ('POST', 'innovations.create'):
        return {'json': {'team_id': m.teams[team_key].id, 'campaign_id': m.campaign(m.unit_of(team_key)).id,
                         'year': 2026, 'title': '新成果', 'topic': 'quality', 'summary': '成果简介'}}
    if key == ('POST', 'team.evidence'):
        return {'data': {'version': target.record.version, 'text': '补充材料'}}
    if key == ('PUT', 'evidence.edit'):
        return {'json': {'text': '补充材料'}, 'headers': if_match(target.record.version)}
    if key == ('POST', 'evidence.upload'):
        return {**multipart({}, [('file', '补充.pdf', b'%PDF-1.4 more')]), 'headers': if_match(target.record.version)}
    if key == ('POST', 'union.edit_requirement'):
        return {'data': {'title_zh': '新的要求名称', 'active': 'true', 'version': target.record.version}}
    if key == ('PATCH', 'campaigns.edit_requirement'):
        return {'json': {'title_zh': '新的要求名称'}, 'headers': if_match(target.record.version)}
    if key == ('POST', 'campaigns.new_requirement'):
        return {'json': {'stage': 'popularization', 'code': 'matrix_item', 'title_zh': '新要求', 'title_en': 'New'},
                'headers': if_match(target.record.version)}
    if key in (('POST', 'union.commendations'), ('POST', 'campaigns.new_decision')):
        unit_key = target.key

        def prepare(path):
            team_key_ = 't1' if unit_key == 'HY' else 'ot'
            application = m.targets[('application', team_key_)].record
            set_state(application, 'notice_closed')
            fields = {'doc_number': f'矩阵〔2026〕{unit_key}号', 'title': '关于表彰学习型班组的决定', 'year': 2026}
            if endpoint == 'union.commendations':
                return path, {'data': MultiDict([*fields.items(), ('application_ids', application.id)])}
            return path, {'json': {**fields, 'application_ids': [application.id]}}
        return {'prepare': prepare}
    if key == ('POST', 'union.org_import'):
        csv = ('单位,分会,班组,姓名,工号,角色,用户名\n' + ORG_CSV[target.key]).encode('utf-8')
        return multipart({}, [('file', 'org.csv', csv)])
    if key == ('POST', 'account.create'):
        return {'data': {'name': '矩阵令牌'}}
    if key == ('POST', 'auth.login'):
        return {'data': {'username': who if who != ANON else 'leader1', 'password': PASSWORD}, 'fresh': True}
    if key in (('POST', 'auth.logout'), ('POST', 'auth.language')):
        return {'data': {}, 'fresh': True}
    if key in (('POST', 'account.revoke'), ('POST', 'account.end_session'), ('POST', 'account.end_other_sessions')):
        return {'data': {}}
    raise AssertionError(f'{method} {endpoint}: the matrix has no valid request body for it; add one to '
                         f'tests/test_authz_matrix.write_request')


# Deviations from the rule table that are product decisions, not bugs: {(method, endpoint, who, target name):
# reason}. The test checks everything else strictly and ends in xfail while one of these remains.
IMPORT_REFUSAL = ('the organisation import reports a unit the person may not import as one line of its all-or-'
                  'nothing error report (422, nothing imported, refusal logged), like every other problem of the '
                  'file (tests/test_web_actions.py::test_other_units_staff_cannot_import_into_this_unit)')
KNOWN = {
    ('POST', 'union.org_import', 'other_staff', 'unit HY'): IMPORT_REFUSAL,
    ('POST', 'union.org_import', 'staff', 'unit KY'): IMPORT_REFUSAL,
    ('POST', 'union.org_import', 'staff2', 'unit KY'): IMPORT_REFUSAL,
}

LINK_RE = re.compile(r'href="/(objects/(?:participation|application|innovation|campaign)/\d+)"')


def leaked_links(m, who, response):
    """Links on a page to records `who` may not read (a list or page must not show them)."""
    if who == ANON or not response.mimetype == 'text/html' or response.status_code != 200:
        return []
    by_link = {f'objects/{t.kind}/{t.record.id}': t for t in m.targets.values()
               if t.record is not None and t.kind in OBJECT_KINDS}
    found = {match.group(1) for match in LINK_RE.finditer(response.get_data(as_text=True))}
    return sorted(link for link in found if link in by_link and not may_view(who, by_link[link]))


LISTS = {   # API list endpoint: the kind of record it lists
    'participations.listing': 'participation', 'applications.listing': 'application',
    'innovations.listing': 'innovation', 'campaigns.campaigns': 'campaign', 'organisation.teams': 'team',
    'organisation.branches': 'branch', 'organisation.units': 'unit',
}


def list_problems(m, who, endpoint, response):
    """An API list shows every record of the scene `who` may read (public ones may be left out: they are read
    on the 公示 page) and none they may not."""
    kind = LISTS.get(endpoint)
    if kind is None or who == ANON or response.status_code != 200:
        return []
    returned = {item['id'] for item in response.get_json()['items']}
    problems = []
    for target in m.targets.values():
        if target.kind != kind or (kind in OBJECT_KINDS and target.record is None) or target.name.startswith(
                ('evidence', 'attachment')):
            continue
        ident = target.record.id if target.record is not None else (
            target.values.get('team_id') or target.values.get('branch_id') or m.units[target.key].id)
        if ident in returned and not may_view(who, target):
            problems.append(f'lists {target.name} (#{ident}), which {who} may not read')
        if ident not in returned and may_view(who, target) and not target.public:
            problems.append(f'leaves out {target.name} (#{ident}), which {who} may read')
    return problems


def inbox_problems(m, who, endpoint, response):
    """The inbox lists the applications waiting for the branch exactly where the definitions say `who` decides
    them — the chair, or the party secretary for the chair's own team — and nothing they may not read."""
    if endpoint != 'inbox.inbox' or who == ANON or response.status_code != 200:
        return []
    workflow = workflows.get('application')
    recommend = next(t for t in workflow.transitions if t.event == 'recommend')
    ordinary = dataclasses.replace(recommend, allowed=tuple(r for r in recommend.allowed if not r.get('override')))
    items = {(i['object_type'], i['id']) for i in response.get_json()['items']}
    problems = []
    for key in TEAM_KEYS:
        target = m.targets[('application', key)]
        waiting = ('application', target.record.id) in items
        should = may_fire(ordinary, who, target.place) == 'allow'
        if waiting != should:
            problems.append(f'inbox {"shows" if waiting else "lacks"} the submitted application of {key}')
    for object_type, ident in items:
        target = next((t for t in m.targets.values() if t.kind == object_type and t.record is not None
                       and t.record.id == ident), None)
        if target is not None and not may_view(who, target):
            problems.append(f'inbox shows {target.name}, which {who} may not read')
    return problems


ROUTE_CASES = sorted(key for key, rule in RULES.items() if rule != 'fire(event)')


@pytest.mark.parametrize('method,endpoint', ROUTE_CASES, ids=[f'{m} {e}' for m, e in ROUTE_CASES])
def test_route_matrix(matrix, method, endpoint):
    m = matrix
    routes = app_routes(m.app)
    assert (method, endpoint) in routes, f'{method} {endpoint} is no route of the app: update tests/authz_rules.py'
    rule, route = RULES[(method, endpoint)], routes[(method, endpoint)]
    COUNTS['routes'] += 1
    mismatches, known = [], []
    with m.scene('routes'):
        build_read_scene(m)
        for target in targets_for(m, method, endpoint, set(route.arguments)):
            for who in ROLES:
                with m.app.test_request_context():
                    path = url_for(endpoint, **{k: v for k, v in url_values(m, target, who).items()
                                                if k in route.arguments})
                kwargs = write_request(m, method, endpoint, target, who) if method != 'GET' else {}
                fresh = kwargs.pop('fresh', False)
                response, _ = m.request(who, method, path, fresh=fresh, **kwargs)
                api = path.startswith('/api/')
                want, got = expected(rule, who, target), classify(response, api)
                problems = []
                if want != got:
                    problems.append(f'rule {rule} expects {want}, got {response.status_code} ({got}) '
                                    f'{body_text(response)[:160]}')
                if got == 'allow':
                    problems += [f'links to {link}, which {who} may not read' for link in
                                 leaked_links(m, who, response)]
                    problems += list_problems(m, who, endpoint, response)
                    problems += inbox_problems(m, who, endpoint, response)
                for problem in problems:
                    line = f'{method} {path} as {who} on {target.name}: {problem}'
                    reason = KNOWN.get((method, endpoint, who, target.name))
                    (known if reason else mismatches).append(line if not reason else f'{line} — {reason}')
    COUNTS['mismatches'] += len(mismatches)
    COUNTS['known'] += len(known)
    assert not mismatches, f'{len(mismatches)} authorisation mismatches:\n' + '\n'.join(mismatches)
    if known:
        pytest.xfail('product decision: ' + '; '.join(known))


# --- 3. acting on objects: every event from every state, as everyone, in and out of scope -------------------------

EVENT_CASES = sorted({(wf.name, state, t.event) for wf in workflows.LATEST.values() for t in wf.transitions
                      if not t.route_if for state in t.sources})


def transition_of(workflow_name, state, event):
    return next(t for t in workflows.LATEST[workflow_name].transitions
                if t.event == event and state in t.sources and not t.route_if)


def build_event_targets(m, workflow_name, state, event):
    """The object in `state` for 装卸一班 and for the teams outside its scope (campaigns: the two units), with
    every guard of `event` satisfied and the input the event needs."""
    if workflow_name != 'campaign':
        m.launch_both()
    targets = []
    if workflow_name == 'campaign':
        for unit_key in ('HY', 'KY'):
            record = set_state(m.campaign(unit_key), state)
            targets.append(Target(f'campaign of {unit_key}', 'campaign', Place(unit_key), record=record,
                                  key=unit_key))
        return targets
    for key in TEAM_KEYS:
        team, leader = m.teams[key], m.leader(key)
        with m.as_campaign_of(key):
            if workflow_name == 'participation':
                record = participation_in(m.world, state, team=team, leader=leader)
            elif workflow_name == 'application':
                record = application_in(m.world, state, event, team=team, leader=leader)
            else:
                record = innovation_in(m.world, state, team=team, leader=leader)
        targets.append(Target(f'{workflow_name} of {key} ({TEAM_LABELS[key]})', workflow_name, place_of(key),
                              record=record, key=key, public=state in workflows.LATEST[workflow_name].public_states))
    return targets


def event_payload(m, target, transition):
    name = transition.payload
    if name is None:
        return None
    if name == 'ReturnItemsPayload':
        return {}
    if name == 'ScorePayload':
        return dict(FULL_SCORES)
    if name == 'DowngradePayload':
        return {'tier': 'learning_team'}
    if name == 'ObjectionPayload':
        return {'objection_id': Objection.get(Objection.application == target.record.id).id}
    if name == 'CommendPayload':
        unit = m.units[m.unit_of(target.key)]
        decision = CommendationDecision.get_or_none(CommendationDecision.unit == unit,
                                                    CommendationDecision.year == 2026)
        if decision is None:
            decision = CommendationDecision.create(unit=unit, year=2026, doc_number=f'货工〔2026〕{unit.code}号',
                                                   title='关于表彰学习型班组的决定')
        return {'decision_id': decision.id}
    raise AssertionError(f'payload {name} unknown to the matrix: add it to tests/test_authz_matrix.event_payload')


def form_fields(payload_name, payload):
    """The detail page's form fields for a payload (web/forms.payload_from_form reads them)."""
    if not payload:
        return {}
    if payload_name == 'ScorePayload':
        return {f'criteria_{code}': value for code, value in payload['criteria'].items()}
    return dict(payload)


FIRING_ROUTES = {('POST', 'review.act'), ('POST', 'objects.fire'), ('POST', 'review.bulk')}


def fire_requests(m, target, transition, event, stale=False):
    """(channel, path, kwargs) of firing `event` on the target through each door, with the version the person
    saw — or, `stale`, with a version someone else has since moved past."""
    object_type = target.kind
    record = type(target.record).get_by_id(target.record.id)
    version = record.version + (5 if stale else 0)
    payload = event_payload(m, target, transition)
    reason = '授权矩阵测试理由'
    yield 'ui', f'/act/{object_type}/{record.id}', {
        'data': {'event': event, 'version': version, 'reason': reason, 'override': 'true',
                 **form_fields(transition.payload, payload)}}
    body = {'reason': reason, 'override': True}
    if payload is not None:
        body['payload'] = payload
    yield 'api', f'/api/v1/objects/{object_type}/{record.id}/events/{event}', {
        'json': body, 'headers': if_match(version)}
    if (object_type, event) in BULK_EVENTS and not stale:
        yield 'bulk', '/inbox/bulk', {'data': {'items': f'{object_type}:{record.id}:{record.version}:{event}',
                                               'reason': reason}}


def version_moved(record):
    return lambda: type(record).get_by_id(record.id).version != record.version


def check_events(m, workflow_name, state, event, chair_team_reviewer='party_secretary', roles=ROLES, stale=False):
    transition = transition_of(workflow_name, state, event)
    mismatches = []
    for target in build_event_targets(m, workflow_name, state, event):
        for who in roles:
            want = may_fire(transition, who, target.place, chair_team_reviewer, visible=may_view(who, target))
            if stale and want == 'allow':
                want = 'status 409'         # "changed by someone else, reload" — only for who may act at all
            for channel, path, kwargs in fire_requests(m, target, transition, event, stale):
                record = type(target.record).get_by_id(target.record.id)
                response, moved = m.request(who, 'POST', path, probe=version_moved(record), **kwargs)
                got = classify(response, channel == 'api')
                if channel == 'bulk' and got == 'allow':
                    # bulk reports each refusal as a message, 303 (tests/test_authz_existence.py: the message
                    # for an object one may not see is the one for a missing object)
                    got = 'allow' if moved else ('hidden' if want == 'hidden' else 'deny')
                elif got == 'allow' and not moved:
                    got = f'{response.status_code} but nothing changed'
                elif got != 'allow' and moved:
                    got = f'{got}, yet the record changed'
                if want != got:
                    mismatches.append(f'{channel}: {event} on {target.name} in {state} as {who}: expected {want}, '
                                      f'got {response.status_code} ({got}) {body_text(response)[:160]}')
    return mismatches


@pytest.mark.parametrize('workflow_name,state,event', EVENT_CASES, ids=['-'.join(c) for c in EVENT_CASES])
def test_event_matrix(matrix, workflow_name, state, event):
    COUNTS['event_cases'] += 1
    with matrix.scene('events'):
        mismatches = check_events(matrix, workflow_name, state, event)
    COUNTS['mismatches'] += len(mismatches)
    assert not mismatches, f'{len(mismatches)} authorisation mismatches:\n' + '\n'.join(mismatches)


BRANCH_REVIEWS = [('participation', 'requested', 'approve_enrolment'), ('participation', 'submitted', 'return_stage'),
                  ('application', 'submitted', 'recommend'), ('innovation', 'submitted', 'approve')]


@pytest.mark.parametrize('workflow_name,state,event', BRANCH_REVIEWS, ids=['-'.join(c) for c in BRANCH_REVIEWS])
def test_chairs_own_team_routed_to_union_staff(matrix, workflow_name, state, event):
    """Where the unit says so (chair_team_reviewer = union_staff), the chair's own team is reviewed by union
    staff and no longer by the party secretary."""
    COUNTS['event_cases'] += 1
    with matrix.scene('routing'):
        Unit.update(settings={'chair_team_reviewer': 'union_staff'}).where(Unit.id == matrix.world.unit.id).execute()
        mismatches = check_events(matrix, workflow_name, state, event, chair_team_reviewer='union_staff',
                                  roles=['chair1', 'secretary1', 'staff', 'staff2', 'leader1', 'chair2'])
    COUNTS['mismatches'] += len(mismatches)
    assert not mismatches, f'{len(mismatches)} authorisation mismatches:\n' + '\n'.join(mismatches)


STALE_CASES = [('participation', 'requested', 'approve_enrolment'), ('participation', 'in_progress', 'submit_stage'),
               ('participation', 'awaiting_cosign', 'cosign_stage'), ('application', 'submitted', 'recommend'),
               ('application', 'recommended', 'score'), ('application', 'approved', 'publish_notice'),
               ('application', 'publicized', 'lodge_objection'), ('campaign', 'draft', 'launch'),
               ('innovation', 'submitted', 'approve'), ('innovation', 'approved', 'publish')]


@pytest.mark.parametrize('workflow_name,state,event', STALE_CASES, ids=['-'.join(c) for c in STALE_CASES])
def test_a_stale_version_reveals_nothing_to_who_may_not_act(matrix, workflow_name, state, event):
    """Whoever may not act gets 403 (404 if they may not see the object) whatever version they send — never 409
    "changed by someone else" with the current version, which would tell a person of another unit that the
    object exists and how far it got."""
    COUNTS['event_cases'] += 1
    with matrix.scene('stale versions'):
        mismatches = check_events(matrix, workflow_name, state, event, stale=True)
    COUNTS['mismatches'] += len(mismatches)
    assert not mismatches, f'{len(mismatches)} authorisation mismatches:\n' + '\n'.join(mismatches)


STATE_CASES = sorted({(wf.name, state) for wf in workflows.LATEST.values() for t in wf.transitions
                      for state in t.sources})
ACTION_RE = re.compile(r'<(?:button|summary)[^>]*\bdata-event="(\w+)"')


@pytest.mark.parametrize('workflow_name,state', STATE_CASES, ids=['-'.join(c) for c in STATE_CASES])
def test_offered_actions_match_the_definitions(matrix, workflow_name, state):
    """What a person is offered on an object (the detail page's buttons, the API's /actions) is exactly what the
    definitions let them fire from its state: no button for what would be refused, none missing."""
    m = matrix
    COUNTS['event_cases'] += 1
    workflow = workflows.LATEST[workflow_name]
    mismatches = []
    with m.scene('offered actions'):
        for target in build_event_targets(m, workflow_name, state, None):
            for who in ROLES:
                want = {event for event in workflow.events_from(state)
                        if may_fire(transition_of(workflow_name, state, event), who, target.place) == 'allow'}
                visible = who != ANON and may_view(who, target)
                for channel, path in (('ui', f'/objects/{target.kind}/{target.record.id}'),
                                      ('api', f'/api/v1/objects/{target.kind}/{target.record.id}/actions')):
                    response, _ = m.request(who, 'GET', path)
                    got = classify(response, channel == 'api')
                    expect = 'login' if who == ANON else ('allow' if visible else 'hidden')
                    if got != expect:
                        mismatches.append(f'{channel}: {target.name} in {state} as {who}: expected {expect}, got '
                                          f'{response.status_code} ({got})')
                        continue
                    if got != 'allow':
                        continue
                    offered = (set(ACTION_RE.findall(response.get_data(as_text=True))) if channel == 'ui'
                               else {a['event'] for a in response.get_json()})
                    if offered != want:
                        mismatches.append(f'{channel}: {target.name} in {state} as {who}: offered {sorted(offered)}, '
                                          f'the definitions allow {sorted(want)}')
    COUNTS['mismatches'] += len(mismatches)
    assert not mismatches, f'{len(mismatches)} mismatches:\n' + '\n'.join(mismatches)
