"""Shared pieces of the hostile-input and security tests (tests/test_security_*.py): a small organisation with
an object in every state a form can act on, sample values for every URL argument, hostile values as
hypothesis strategies, and the checks every answer must pass (no 5xx, a 4xx says why)."""
import collections
import html
import json
import os
import re

from hypothesis import HealthCheck, settings, strategies as st

import engine
from engine.organisation import org
from engine.organisation import tokens
from models import (Application, CommendationDecision, InnovationResult, Objection, Participation, Requirement, Score,
                    Team, User, UserSession, database, is_sqlite)

from conftest import set_state
from scenarios import FULL_SCORES, application_in, innovation_in, participation_in
from web_fixtures import error_message, flashes, raw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, 'artifacts')

# --- hypothesis budget: fixed, derandomized, no deadline (CI machines are slow and noisy) -----------------

EXAMPLES = int(os.environ.get('CHUANGZHENG_HOSTILE_EXAMPLES', '40'))
HOSTILE = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large, HealthCheck.filter_too_much])

# examples tried and answers seen per test, written to artifacts/ for docs/reliability/hostile-input.md
FIGURES = collections.defaultdict(collections.Counter)
MESSAGES = collections.defaultdict(collections.Counter)      # the refusals seen, per test (for reading)
LAST = {}


def count(test, status):
    FIGURES[test]['examples'] += 1
    FIGURES[test][f'{status // 100}xx'] += 1
    if LAST.get('message'):
        if status < 400:
            FIGURES[test]['refused_by_redirect_and_alert'] += 1     # a form sent back with the reason shown
        MESSAGES[test][f'{status} {LAST["message"][:70]}'] += 1
    LAST.clear()


def write_figures(name):
    if not FIGURES:
        return None
    os.makedirs(ARTIFACTS, exist_ok=True)
    backend = 'sqlite' if is_sqlite() else 'postgres'
    path = os.path.join(ARTIFACTS, f'{name}-{backend}.json')
    data = {test: dict(counts) for test, counts in sorted(FIGURES.items())}
    data['_total'] = dict(sum((collections.Counter(c) for c in FIGURES.values()), collections.Counter()))
    data['_refusals'] = {test: dict(messages.most_common(8)) for test, messages in sorted(MESSAGES.items())}
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
    return path


# --- hostile values ------------------------------------------------------------------------------------------

SPECIAL_TEXT = [
    '', ' ', '\t', '\x00', 'a\x00b', '\r\n', 'line1\nline2', '\x1b[31m', '\x7f', '\u0085', '\u2028', '\u2029',
    '\u202e', 'gpj.exe\u202e.pdf', '\u200b', '\u200c\u200d', '\ufeff', '\u2066x\u2069', 'e\u0301\u0301\u0301\u0301',
    'Z\u0351\u0360\u0364\u036b' * 20, '👨\u200d👩\u200d👧\u200d👦', '🏳️\u200d🌈', '\U0001F600' * 50, '\U0010FFFF',
    '\ud7ff', '\ue000', '\ufffd', '\ufffe', 'مرحبا بالعالم', 'שָׁלוֹם', 'Ａ１２３', '①②', '٣', '𝟘', '〇', '𠀀',
    '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'; DROP TABLE audit_record; --",
    "' OR '1'='1", '../../etc/passwd', '..\\..\\windows\\win.ini', '%00', '%2e%2e%2f', '${7*7}', '{{7*7}}',
    '{% raw %}', '\\', '"', "'", '=HYPERLINK("http://x")', '+1', '-1', '@SUM(A1)', 'NaN', 'Infinity',
    '-Infinity', '1e309', '-0', '0x10', '1_000', '９', ' 7 ', '7.0', '2147483648', '-2147483649',
    '9' * 30, '9' * 5000, 'null', 'true', '[]', '{}', 'x' * 201, '中' * 2001, '字' * 20001,
]

text = st.characters(exclude_categories=['Cs'])          # every code point UTF-8 can carry
hostile_text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(text, max_size=40),
    st.text(st.characters(categories=['Mn', 'Me', 'Cf', 'Zl', 'Zp', 'Cc', 'Co', 'So']), max_size=20),
    st.builds(lambda unit, n: unit * n, st.sampled_from(['x', '中', '🎉', '\u0301', '<', '\x00']),
              st.integers(1000, 30000)),
)
HUGE_NUMBERS = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, -2 ** 31 - 1, 2 ** 53 + 1, 2 ** 63, 2 ** 64, 10 ** 30, -10 ** 30,
                10 ** 400]
hostile_int = st.one_of(st.sampled_from(HUGE_NUMBERS), st.integers(-2 ** 70, 2 ** 70))
hostile_float = st.floats(allow_nan=True, allow_infinity=True)
hostile_number = st.one_of(hostile_int, hostile_float)
# what a form field can hold: text (numbers arrive as text too)
form_text = st.one_of(hostile_text, hostile_number.map(str))
json_scalar = st.one_of(st.none(), st.booleans(), hostile_int, hostile_float, hostile_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(hostile_text, inner, max_size=4)),
                          max_leaves=8)
json_text = st.one_of(hostile_text, hostile_text, json_value)    # for a text field of a JSON body


class Valid:
    """A placeholder for a value that is only known at run time (the current version of a record, an id)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'Valid({self.name!r})'


def resolve(value, known):
    if isinstance(value, Valid):
        return known()[value.name]
    if isinstance(value, list):
        return [resolve(v, known) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, known) for k, v in value.items()}
    return value


class Field:
    """A field of a form or body: values that pass (some may be Valid placeholders) and hostile ones."""

    def __init__(self, valid, hostile=None):
        self.valid, self.hostile = valid, hostile

    def good(self):
        return self.valid if isinstance(self.valid, st.SearchStrategy) else st.sampled_from(self.valid)


def field(*valid, hostile=None):
    return Field(valid, hostile)


def listed(strategy, hostile=None):
    """A field whose valid values come from a strategy (e.g. a list of ids)."""
    return Field(strategy, hostile)


UNKNOWN_NAMES = st.sampled_from(['is_admin', 'state', 'id', 'actor_id', 'role', 'csrf_token', '__proto__', '']) | \
    hostile_text
MODES = ('none', 'replace', 'replace', 'drop', 'repeat', 'extra', 'wrong_type')     # 'none': the valid request


def _mutations(fields, hostile, wrong_type):
    """Every field valid but one, which is replaced by a hostile value, dropped, sent twice, given a value of
    another type or accompanied by an unknown field (or, now and then, none: the valid request itself): each
    example isolates one bad input, so the request gets as far as it can."""
    names = sorted(fields) or ['']

    def build(args):
        base, name, mode, bad, other, wrong = args
        data = dict(base)
        if mode == 'none':
            pass
        elif mode == 'replace' and name in fields:
            data[name] = bad
        elif mode == 'drop':
            data.pop(name, None)
        elif mode == 'repeat' and name in fields:
            data[name] = [data[name], bad]
        elif mode == 'wrong_type' and name in fields:
            data[name] = wrong
        else:
            data[other] = bad
        return data

    base = st.fixed_dictionaries({name: f.good() for name, f in fields.items()})
    def bad_value(name):
        own = fields[name].hostile if name in fields else None
        return own if own is not None else hostile

    per_field = st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), bad_value(name)))
    return st.tuples(base, per_field, st.sampled_from(MODES), UNKNOWN_NAMES, wrong_type).map(
        lambda t: build((t[0], t[1][0], t[2], t[1][1], t[3], t[4])))


def form(fields, extra=True):
    """A form: one field at a time made hostile (see _mutations), or anything at all under any names."""
    anything = st.dictionaries(st.sampled_from(sorted(fields) or ['x']) | UNKNOWN_NAMES,
                               st.one_of(form_text, st.lists(form_text, min_size=2, max_size=3)), max_size=6)
    return st.one_of(_mutations(fields, form_text, st.lists(form_text, min_size=2, max_size=3)), anything)


def json_body(fields):
    """A JSON body: one field at a time made hostile (any JSON value), anything at all, or not an object."""
    anything = st.dictionaries(st.sampled_from(sorted(fields) or ['x']) | UNKNOWN_NAMES, json_value, max_size=6)
    return st.one_of(_mutations(fields, json_value, json_value), anything, json_value)


# --- the arena: one object in every state the forms and endpoints act on -------------------------------------

class Arena:
    """conftest.World plus: 装卸一班's participation in progress (evidence editable, an attachment), 调度班's
    stage submitted (chair2 reviews it), 装卸二班's applications under evaluation, under public notice (with
    an open objection) and with the notice closed, an innovation result in draft, a commendation decision,
    and an API token."""

    def __init__(self, world):
        self.world = w = world
        self.p1 = participation_in(w, 'in_progress')
        self.p3 = participation_in(w, 'submitted', team=w.t3, leader=w.leader3)
        self.recommended = application_in(w, 'recommended', team=w.t2, leader=w.chair1)
        self.publicized = set_state(engine.create('application', w.chair1, {
            'team_id': w.t2.id, 'campaign_id': w.campaign.id, 'year': 2025, 'tier': 'learning_team',
            'statement': '公示中的申报'}), 'publicized')
        self.objection = Objection.create(application=self.publicized, lodged_by=w.leader3, text='材料不实')
        self.closed = set_state(engine.create('application', w.chair1, {
            'team_id': w.t2.id, 'campaign_id': w.campaign.id, 'year': 2024, 'tier': 'learning_team',
            'statement': '公示期满的申报'}), 'notice_closed')
        self.innovation = innovation_in(w, 'draft')
        self.decision = CommendationDecision.create(unit=w.unit, year=2024, doc_number='货工〔2024〕1号',
                                                    title='关于表彰学习型班组的决定')
        self.requirement = Requirement.get(Requirement.campaign == w.campaign, Requirement.code == 'training_plan')
        self.p1_requirements = [r.id for r in Requirement.select().where(
            Requirement.campaign == w.campaign, Requirement.stage == 'popularization')]
        engine.record_evidence(Participation.get_by_id(self.p1.id), self.requirement.id, w.leader1,
                               add_files=[('plan.pdf', b'%PDF-1.4 plan')])
        self.attachment = self.requirement_evidence().attachments.first()
        self.token, self.secret = tokens.create_token(w.leader1, 'arena')
        from web import sessions           # another browser of leader1's, to end
        self.session = UserSession.get(UserSession.key_hash == sessions.digest(
            sessions.start(w.leader1, '10.0.0.9', 'Mozilla/5.0 (Linux; Android 14) Chrome/120.0', {})))
        for judge in (w.staff, w.staff2):              # evaluated: approve and downgrade can pass their guards
            Score.create(application=self.recommended, judge=judge, criteria=FULL_SCORES['criteria'], total=90)
        self.t4 = Team.create(branch=w.b2, name='调车班')  # not enrolled yet: leader3 may enrol it once
        org.assign_role(w.leader3, 'team_leader', team=self.t4)
        self.states = {Participation: {self.p1.id: 'in_progress', self.p3.id: 'submitted'},
                       Application: {self.recommended.id: 'recommended', self.publicized.id: 'publicized',
                                     self.closed.id: 'notice_closed'}}

    def requirement_evidence(self):
        from models import Evidence
        return Evidence.get(Evidence.participation == self.p1.id, Evidence.requirement == self.requirement.id)

    def reset(self):
        """Put the objects back in their states (a hostile example may have moved them legitimately)."""
        for model, states in self.states.items():
            for record_id, state in states.items():
                model.update(state=state).where(model.id == record_id).execute()
        Objection.update(resolution=None, resolved_at=None).where(Objection.id == self.objection.id).execute()
        from models import Evidence
        Evidence.update(status='draft').where(Evidence.participation == self.p1.id).execute()

    def version(self, model, record_id):
        return model.select(model.version).where(model.id == record_id).scalar()

    def known(self):
        """Ids and current versions, for Valid placeholders."""
        w = self.world
        from models import Campaign
        return {
            'p1': self.p1.id, 'p1_version': self.version(Participation, self.p1.id),
            'p3': self.p3.id, 'p3_version': self.version(Participation, self.p3.id),
            'recommended': self.recommended.id, 'recommended_version': self.version(Application, self.recommended.id),
            'publicized': self.publicized.id, 'publicized_version': self.version(Application, self.publicized.id),
            'closed': self.closed.id, 'closed_version': self.version(Application, self.closed.id),
            'innovation': self.innovation.id, 'innovation_version': self.version(InnovationResult, self.innovation.id),
            'campaign': w.campaign.id,
            'campaign_version': self.version(Campaign, w.campaign.id), 'requirement': self.requirement.id,
            'objection': self.objection.id, 'decision': self.decision.id, 'attachment': self.attachment.id,
            't1': w.t1.id, 't2': w.t2.id, 't3': w.t3.id, 't4': self.t4.id, 'b1': w.b1.id, 'unit': w.unit.id,
            'token': self.token.id, 'session': self.session.id,
        }


def url_values(arena):
    """A working value for every argument of every route (tests fail when a new one appears without one)."""
    k = arena.known()
    return {'team_id': k['t1'], 'participation_id': k['p1'], 'requirement_id': k['requirement'],
            'object_type': 'participation', 'object_id': k['p1'], 'record_id': k['p1'], 'campaign_id': k['campaign'],
            'branch_id': k['b1'], 'attachment_id': k['attachment'], 'token_id': k['token'], 'session_id': k['session'],
            'code': 'en', 'event': 'withdraw', 'filename': 'app.css'}


def build_url(app, rule, values):
    missing = rule.arguments - set(values)
    assert not missing, f'add a sample value for {sorted(missing)} of {rule.rule} to security_support.url_values'
    args = {name: values[name] for name in rule.arguments}
    if rule.endpoint.startswith(('participations.', 'applications.', 'innovations.')) and 'record_id' in args:
        args['record_id'] = {'participations': values['participation_id']}.get(rule.endpoint.split('.')[0],
                                                                               args['record_id'])
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **args)


# --- what every answer must be -------------------------------------------------------------------------------

ENVELOPE = {'error', 'message', 'details'}


def ui_message(response):
    """The reason a refused UI request shows the person: an error page, an alert, or an import report."""
    found = error_message(response)
    if found:
        return found[2]
    alerts = flashes(response)
    if alerts:
        return alerts[0]
    report = re.search(r'<section class="card" id="import-report">(.*?)</section>', raw(response), re.S)
    return html.unescape(re.sub(r'<[^>]+>', ' ', report.group(1))).strip() if report else None


def check_ui(client, response, what):
    """No 5xx; a 4xx shows a clear message; a redirect leads inside the site to a page that renders."""
    status = response.status_code
    assert status < 500, (what, status, response.get_data(as_text=True)[:800])
    if 400 <= status < 500:
        message = ui_message(response)
        assert message and message.strip(), (what, status, 'no message for the person',
                                              response.get_data(as_text=True)[:800])
        LAST['message'] = message.strip()
    elif status in (301, 302, 303, 307, 308):
        location = response.location
        assert location.startswith('/') and not location.startswith('//'), (what, location)
        follow = client.get(location)
        assert follow.status_code < 500, (what, location, follow.status_code)
        response.followed = follow            # the page shown next: success, or the refusal as an alert
        errors = flashes(follow, 'error')
        if errors:
            assert all(m.strip() for m in errors), (what, errors)
            LAST['message'] = errors[0].strip()
    return status


def check_api(response, what):
    """No 5xx; every 4xx is the one envelope with a message; every answer but a download is JSON."""
    status = response.status_code
    assert status < 500, (what, status, response.get_data(as_text=True)[:800])
    if status >= 400:
        assert response.mimetype == 'application/json', (what, status, response.mimetype)
        body = response.get_json()
        assert isinstance(body, dict) and set(body) == ENVELOPE, (what, body)
        assert isinstance(body['message'], str) and body['message'].strip(), (what, body)
        assert isinstance(body['details'], dict), (what, body)
        LAST['message'] = f'{body["error"]}: {body["message"]}'
        if os.environ.get('DEBUG_HOSTILE'):
            print('\n', status, repr(what)[:300], '->', json.dumps(body, ensure_ascii=False)[:300])
    return status


def user(username):
    return User.get(User.username == username)


def close_db():
    if not database.is_closed():
        database.close()
