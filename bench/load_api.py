"""Simulated people who use the JSON API (/api/v1) with their personal token instead of the UI: team leaders
writing evidence and submitting, a chair working through the inbox, union staff stepping in. Same tallies as
the UI people."""
from .load_people import APPROVALS, LEADER_STEPS, OVERRIDE_REASON, REASONS, RETURNS, Person

API = '/api/v1'


class ApiPerson(Person):
    """Someone with a personal API token: no login, JSON in and out, the version seen sent as If-Match."""
    browse_share = 0.1

    def login(self):
        """Nothing to do: the token is sent with every request."""

    def browse(self):
        self.call('GET', '/inbox', 'GET /api/v1/inbox')

    def call(self, method, path, endpoint, body=None, version=None):
        headers = {'If-Match': f'"{version}"'} if version is not None else None
        return self.http.send(method, API + path, endpoint, body=body, headers=headers)

    def fire(self, object_type, object_id, event, version, body=None):
        answer = self.call('POST', f'/objects/{object_type}/{object_id}/events/{event}',
                           'POST /api/v1/objects/:type/:id/events/:event', body or {}, version)
        return self.outcome(answer, object_type, object_id, event)

    def outcome(self, answer, object_type, object_id, event):
        if answer.status == 200:
            self.tally.accept(object_type, object_id, event)
            return True
        if 400 <= answer.status < 500:
            try:
                kind, message = answer.json().get('error', 'other'), answer.json().get('message', '')
            except ValueError:
                kind, message = 'not json', answer.text[:200]
            key = f'{answer.status} {kind}'
            self.tally.refused[key] += 1
            self.tally.refusal_samples.setdefault(key, message[:200])
        return False


class ApiLeader(ApiPerson):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.ids, self.current, self.fixed = [], 0, set()

    def work(self):
        if not self.ids:
            answer = self.call('GET', '/participations?limit=100', 'GET /api/v1/participations')
            if answer.status == 200:
                self.ids = [item['id'] for item in answer.json()['items']]
            return
        pid = self.ids[self.current % len(self.ids)]
        answer = self.call('GET', f'/participations/{pid}', 'GET /api/v1/participations/:id')
        if answer.status != 200:
            return
        record = answer.json()
        if not (self.write_evidence(record) or self.step(record)):
            self.current += 1

    def write_evidence(self, record):
        if record['state'] not in ('in_progress', 'stage_returned'):
            return False
        pid = record['id']
        todo = [r['id'] for r in record['requirements'] if (pid, r['id']) not in self.fixed and (
            r['evidence'] is None or not r['evidence']['text'].strip() or r['evidence']['status'] == 'returned')]
        if not todo:
            return False
        rid = todo[0]
        text = self.evidence_text(pid, rid)
        answer = self.call('PUT', f'/participations/{pid}/evidence/{rid}',
                           'PUT /api/v1/participations/:id/evidence/:rid', {'text': text}, record['version'])
        if self.outcome(answer, 'participation', pid, 'edit_evidence'):
            self.tally.texts[(pid, rid)] = text
            self.fixed.add((pid, rid))
        return True

    def step(self, record):
        ready = {a['event'] for a in record['actions'] if not a['blocked'] and not a['requires_reason']}
        for event in LEADER_STEPS:
            if event in ready:
                if self.fire('participation', record['id'], event, record['version']) and event == 'submit_stage':
                    self.fixed = {key for key in self.fixed if key[0] != record['id']}
                return True
        return False


class ApiReviewer(ApiPerson):
    """A chair (or secretary) using the API: inbox → the item → approve or return a few items."""
    approve_share = 0.75

    def work(self):
        answer = self.call('GET', '/inbox', 'GET /api/v1/inbox')
        if answer.status != 200 or not answer.json()['items']:
            return
        item = self.rng.choice(answer.json()['items'][:6])
        events = {a['event']: a for a in item['actions'] if not a['blocked']}
        approvals = [e for e in events if e in APPROVALS]
        returns = [e for e in events if e in RETURNS]
        if approvals and (not returns or self.rng.random() < self.approve_share):
            return self.fire(item['object_type'], item['id'], self.rng.choice(approvals), item['version'])
        if returns and item['object_type'] == 'participation':
            detail = self.call('GET', f'/participations/{item["id"]}', 'GET /api/v1/participations/:id')
            if detail.status != 200:
                return
            event = self.rng.choice(returns)
            body = {'reason': self.rng.choice(REASONS[1:])}
            if events[event]['payload'] == 'ReturnItemsPayload':       # return only some items
                ids = [r['id'] for r in detail.json()['requirements']]
                body['payload'] = {'requirement_ids': self.rng.sample(ids, min(len(ids), self.rng.choice([1, 2])))}
            self.fire('participation', item['id'], event, item['version'], body)    # the version decided on


class ApiStaff(ApiPerson):
    """Union staff using the API: find stages waiting for a review or a co-signature and step in with a reason
    (an override, racing the chair or the secretary)."""
    STEPS = {'submitted': 'approve_stage', 'awaiting_cosign': 'cosign_stage'}

    def work(self):
        if self.rng.random() < 0.3:
            return self.browse()
        state = self.rng.choice(list(self.STEPS))
        answer = self.call('GET', f'/participations?state={state}&limit=50', 'GET /api/v1/participations')
        if answer.status != 200 or not answer.json()['items']:
            return
        record = self.rng.choice(answer.json()['items'])
        self.fire('participation', record['id'], self.STEPS[state], record['version'], {'reason': OVERRIDE_REASON})
