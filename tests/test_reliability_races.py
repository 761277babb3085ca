"""Races over HTTP: 20 client processes send the same decision on the same object at the same moment to a
four-worker gunicorn server, each with the version it saw (If-Match). Exactly one wins; every other gets
409 `conflict` in the API's error envelope; the history holds exactly one record of the decision; the chain
verifies. Thirteen rounds, played twice: the four workflows, one event or mixed events (approve against
return …), reviewers and team leaders, fires and evidence edits; 20 enrolments of one team at once; and a
commendation decision over four applications (one transaction, four objects) against single commends."""
import http.client
import json
import multiprocessing
import time
from collections import Counter

import pytest

from engine.organisation import tokens
from engine.organisation.org import assign_role, get_or_create_user
from engine.door.runtime import object_type_of
from models import (Application, AuditRecord, CommendationDecision, Participation, Requirement, Team, database,
                    is_sqlite)

from conftest import World, password_hash
from reliability_support import AUDIT_KEY, check_chain, database_url, gunicorn_server, report
from scenarios import application_in, innovation_in, participation_in

pytestmark = pytest.mark.reliability

PROCESSES = 20
REVIEWERS = ('chair1', 'staff', 'staff2')      # the branch chair, and union staff stepping in (with a reason)
UNION = ('staff', 'staff2')
PASSES = 2          # ROUNDS twice (the campaign advances twice: to consolidation, then innovation)
ENVELOPE = {'error', 'message', 'details'}
REASON = '并发测试：同时审核'


# --- the client processes ----------------------------------------------------------------------------------

def _client(index, base, secrets, tasks, results, start):
    """One client: for each task, open a connection, wait for all others at the barrier, send, report."""
    host, port = base.split('//', 1)[1].split(':')
    while (task := tasks.get()) is not None:
        method, path, who, version, body = task
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.connect()
            start.wait(timeout=60)
            began = time.monotonic()
            headers = {'Authorization': f'Bearer {secrets[who]}', 'Content-Type': 'application/json'}
            if version is not None:
                headers['If-Match'] = f'"{version}"'
            conn.request(method, path, body=json.dumps(body).encode(), headers=headers)
            response = conn.getresponse()
            text = response.read().decode('utf-8', 'replace')
            results.put((index, response.status, response.getheader('Content-Type'), response.getheader('ETag'),
                         text, time.monotonic() - began, event_of(method, path)))
        except Exception as err:     # reported to the parent, which fails the round
            results.put((index, None, None, None, repr(err), 0.0, None))
        finally:
            conn.close()


def event_of(method, path):
    """The audit event a request asks for: the event in the path, an evidence edit, or an enrolment."""
    if '/events/' in path:
        return path.rsplit('/', 1)[1]
    if path.endswith('/decisions'):
        return 'issue_decision'
    return 'edit_evidence' if method == 'PUT' else 'enrol'


def _outcome(answer):
    """'success', or the error code of a refusal ('conflict' split by where the engine saw it)."""
    if answer[1] in (200, 201):
        return 'success'
    try:
        body = json.loads(answer[4])
    except ValueError:
        return f'HTTP {answer[1]}'
    if body.get('error') == 'conflict':
        return 'conflict at the version check' if body.get('details') else 'conflict (duplicate or later)'
    return body.get('error', f'HTTP {answer[1]}')


class Clients:
    """PROCESSES forked OS processes, each holding its own API tokens, released together by a barrier."""

    def __init__(self, base, world):
        def token(username, i):
            return tokens.create_token(getattr(world, username), f'race {i}')[1]
        # each process its own tokens: a reviewer (chair1, staff or staff2), union staff, a team leader
        self.secrets = [{'reviewer': token(REVIEWERS[i % len(REVIEWERS)], i), 'union': token(UNION[i % 2], i),
                         'leader': token('leader1', i)} for i in range(PROCESSES)]
        self.slowest, self.outcomes = 0.0, Counter()
        ctx = multiprocessing.get_context('fork')
        self.start, self.results = ctx.Barrier(PROCESSES, timeout=60), ctx.Queue()
        self.tasks = [ctx.Queue() for _ in range(PROCESSES)]
        database.close()                 # the children never touch the database; they must not share our socket
        self.procs = [ctx.Process(target=_client, args=(i, base, self.secrets[i], self.tasks[i], self.results,
                                                        self.start), daemon=True) for i in range(PROCESSES)]
        for p in self.procs:
            p.start()

    def run(self, tasks):
        for queue, task in zip(self.tasks, tasks):
            queue.put(task)
        answers = sorted(self.results.get(timeout=120) for _ in tasks)
        database.connect(reuse_if_open=True)
        self.slowest = max([self.slowest, *(a[5] for a in answers)])
        for answer in answers:
            self.outcomes[_outcome(answer)] += 1
        return answers

    def stop(self):
        for queue in self.tasks:
            queue.put(None)
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
        for q in (*self.tasks, self.results):
            q.close()
            q.join_thread()


# --- the rounds: an object in a state, and what each of the 20 clients sends ----------------------------------

class Race:
    """Makes the object of each round: on a new team of 一分会 (reviewed by chair1)."""

    def __init__(self, world):
        self.world, self.seq = world, 0

    def team(self, leader=None):
        """A new team of 一分会, led by `leader` or by a new person."""
        self.seq += 1
        team = Team.create(branch=self.world.b1, name=f'竞争班{self.seq}')
        leader = leader or get_or_create_user(f'race_leader{self.seq}', f'竞争班长{self.seq}', password_hash())
        assign_role(leader, 'team_leader', team=team)
        return {'team': team, 'leader': leader}


def _body(event):
    """A reason for every event (union staff stepping in must give one); a return sends back all items; the
    campaign advances below its targets (an override)."""
    extra = {'return_stage': {'payload': {}}, 'advance': {'override': True}}
    return {'reason': REASON, **extra.get(event, {})}


def _fire(who, *events):
    """Client i fires events[i % len(events)] on the object, as `who`, with the version it saw."""
    def tasks(record):
        path = f'/api/v1/objects/{object_type_of(record)}/{record.id}/events/'
        return [('POST', path + events[i % len(events)], who, record.version, _body(events[i % len(events)]))
                for i in range(PROCESSES)]
    return tasks


def _evidence_or_submit(record):
    """Half the clients edit one item's evidence text, half submit the stage: both need the same version."""
    requirement = Requirement.select().where(Requirement.campaign == record.campaign_id,
                                             Requirement.stage == record.stage).first()
    edit = ('PUT', f'/api/v1/participations/{record.id}/evidence/{requirement.id}', 'leader', record.version,
            {'text': '并发修改的佐证材料'})
    submit = ('POST', f'/api/v1/objects/participation/{record.id}/events/submit_stage', 'leader', record.version, {})
    return [edit if i % 2 else submit for i in range(PROCESSES)]


ROUNDS = [
    # (how to make the object, what the clients send)
    (lambda r: participation_in(r.world, 'requested', **r.team()), _fire('reviewer', 'approve_enrolment')),
    (lambda r: participation_in(r.world, 'requested', **r.team()),
     _fire('reviewer', 'approve_enrolment', 'return_enrolment', 'reject_enrolment')),
    (lambda r: participation_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'approve_stage')),
    (lambda r: participation_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'approve_stage', 'return_stage')),
    (lambda r: application_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'recommend')),
    (lambda r: application_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'recommend', 'return', 'reject')),
    (lambda r: innovation_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'approve')),
    (lambda r: innovation_in(r.world, 'submitted', **r.team()), _fire('reviewer', 'approve', 'return', 'reject')),
    (lambda r: participation_in(r.world, 'in_progress', **r.team(r.world.leader1)), _fire('leader', 'submit_stage')),
    (lambda r: participation_in(r.world, 'in_progress', **r.team(r.world.leader1)), _evidence_or_submit),
    (lambda r: r.world.campaign, _fire('union', 'advance')),      # below its targets: an override with a reason
]


def _check_answers(answers, winner_status):
    """Exactly one `winner_status`; every other answer 409 `conflict` in the error envelope. Returns the
    winner's answer and the losers' bodies."""
    failed = [a for a in answers if a[1] is None]
    assert not failed, failed
    statuses = Counter(a[1] for a in answers)
    assert statuses == {winner_status: 1, 409: PROCESSES - 1}, (statuses, sorted({a[4][:300] for a in answers}))
    losers = []
    for answer in answers:
        if answer[1] == winner_status:
            winner = answer
            continue
        body = json.loads(answer[4])
        assert answer[2] == 'application/json' and set(body) == ENVELOPE, answer
        assert body['error'] == 'conflict' and isinstance(body['details'], dict), body
        losers.append(body)
    return winner, losers


def _check_fire(record, head, answers):
    """One 200 with the next version, 19 × conflict; exactly one record of the decision; state and version."""
    version = record.version
    winner, losers = _check_answers(answers, 200)
    assert winner[3] == f'"{version + 1}"'
    for body in losers:
        assert '刷新' in body['message'] and 'reload' in body['message']
        if body['details']:
            assert body['details'] == {'expected_version': version, 'current_version': version + 1}, body
    otype = object_type_of(record)
    decisions = list(AuditRecord.select().where(AuditRecord.object_type == otype, AuditRecord.object_id == record.id,
                                                AuditRecord.seq > head))
    assert len(decisions) == 1, [(d.event, d.to_state) for d in decisions]
    decision, stored = decisions[0], type(record).get_by_id(record.id)
    assert decision.event in {a[6] for a in answers} and decision.from_state == record.state
    assert (stored.version, stored.state) == (version + 1, decision.to_state)
    state = json.loads(winner[4]).get('state')
    assert state in (None, stored.state)
    return f'{otype}.{decision.event}'


def _enrol(race):
    """20 clients enrol the same team at once (no version to send: the object does not exist yet)."""
    team = race.team(race.world.leader1)['team']
    body = {'team_id': team.id, 'campaign_id': race.world.campaign.id}
    return team, [('POST', '/api/v1/participations', 'leader', None, body) for _ in range(PROCESSES)]


def _check_enrol(team, head, answers):
    """One 201; 19 × conflict ("already exists", the unique index); one participation, one record of it."""
    winner, losers = _check_answers(answers, 201)
    assert all('已存在' in body['message'] for body in losers), losers
    (part,) = Participation.select().where(Participation.team == team)
    assert json.loads(winner[4])['id'] == part.id and winner[3] == '"1"' and part.version == 1
    records = list(AuditRecord.select().where(AuditRecord.seq > head))
    assert [(r.object_type, r.object_id, r.event) for r in records] == [('participation', part.id, 'enrol')]
    return 'participation.enrol'


def _decisions(race):
    """Four applications whose 公示 has closed. Even clients issue one commendation decision (one document
    number) commending all four — one transaction over four objects; odd clients commend one of them singly,
    under a decision issued before, with the version they saw."""
    world = race.world
    apps = [application_in(world, 'notice_closed', **race.team()) for _ in range(4)]
    earlier = CommendationDecision.create(unit=world.unit, year=2026, doc_number=f'货工〔2026〕{race.seq}号',
                                          title='关于表彰学习型班组的决定')
    decision = {'doc_number': f'货工〔2026〕{race.seq + 1}号', 'title': '关于表彰学习型班组的决定', 'year': 2026,
                'application_ids': [a.id for a in apps]}
    tasks = [('POST', f'/api/v1/campaigns/{world.campaign.id}/decisions', 'union', None, decision) if i % 2 == 0 else
             ('POST', f'/api/v1/objects/application/{apps[i // 2 % 4].id}/events/commend', 'union',
              apps[i // 2 % 4].version, {'payload': {'decision_id': earlier.id}}) for i in range(PROCESSES)]
    return apps, earlier, tasks


def _check_decisions(apps, earlier, head, answers):
    """Every application commended exactly once — by the new decision (then by nothing else) or singly; every
    refusal a clear 4xx: a stale single commend `conflict`, a decision that lost `conflict`/`invalid_transition`
    (one of its applications was commended meanwhile) or `bad_input` (its document number is taken)."""
    assert all(a[1] in (200, 201, 409, 422) for a in answers), sorted({a[4][:300] for a in answers})
    for answer in answers:
        if answer[1] in (409, 422):
            body = json.loads(answer[4])
            assert answer[2] == 'application/json' and set(body) == ENVELOPE, answer
            assert body['error'] in ({'conflict'} if answer[6] == 'commend' else
                                     {'conflict', 'invalid_transition', 'bad_input'}), (answer[6], body)
    statuses = Counter((a[1], a[6]) for a in answers)
    records = list(AuditRecord.select().where(AuditRecord.seq > head))
    assert sorted(r.object_id for r in records) == sorted(a.id for a in apps), 'not one commend per application'
    assert {(r.event, r.to_state) for r in records} == {('commend', 'commended')}
    issued = CommendationDecision.select().where(CommendationDecision.id > earlier.id)
    if statuses[(201, 'issue_decision')]:
        assert statuses[(201, 'issue_decision')] == 1 and not statuses[(200, 'commend')] and issued.count() == 1
        expected = {issued.get().id}
    else:
        assert statuses[(200, 'commend')] == len(apps) and issued.count() == 0
        expected = {earlier.id}
    assert {a.decision_id for a in Application.select().where(Application.id.in_([a.id for a in apps]))} == expected
    return 'application.commend: ' + ('one decision' if statuses[(201, 'issue_decision')] else '4 singly')


def _head():
    return AuditRecord.select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).scalar()


def _play(clients, race):
    """ROUNDS, the enrolment race and the decision race, PASSES times; returns what won each round."""
    rounds = []
    for _ in range(PASSES):
        for make, tasks in ROUNDS:
            record = make(race)
            record, head = type(record).get_by_id(record.id), _head()
            rounds.append(_check_fire(record, head, clients.run(tasks(record))))
        team, tasks = _enrol(race)
        head = _head()
        rounds.append(_check_enrol(team, head, clients.run(tasks)))
        apps, earlier, tasks = _decisions(race)
        head = _head()
        rounds.append(_check_decisions(apps, earlier, head, clients.run(tasks)))
    return rounds


def test_twenty_processes_one_winner_per_round(db, tmp_path, monkeypatch, record_property):
    began = time.monotonic()
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', AUDIT_KEY)     # the server's key, for the whole history
    world = World()
    with gunicorn_server(database_url(tmp_path), tmp_path / 'gunicorn.log') as base:
        clients = Clients(base, world)
        try:
            rounds = _play(clients, Race(world))
        finally:
            clients.stop()
    log = (tmp_path / 'gunicorn.log').read_text()
    assert 'Traceback' not in log and '" 500 ' not in log, log[-3000:]
    records = check_chain()
    assert len(rounds) == (len(ROUNDS) + 2) * PASSES
    backend = 'sqlite' if is_sqlite() else 'postgresql'
    outcomes = ', '.join(f'{n} {what}' for what, n in clients.outcomes.most_common())
    report(record_property, f'races[{backend}]: {len(rounds)} rounds x {PROCESSES} processes = '
           f'{sum(clients.outcomes.values())} requests: {outcomes}; no 5xx; {records} audit records verified; '
           f'slowest answer {clients.slowest:.2f} s; {time.monotonic() - began:.1f} s in all')
    report(record_property, f'races[{backend}] winners: ' + ', '.join(rounds))
