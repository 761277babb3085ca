"""The simulated people: each a thread with its own account, doing what that person does all day — team
leaders write evidence and submit stages, chairs and party secretaries work through their inbox (approve,
return, co-sign, bulk approval), union staff step in with a reason, the auditor reads the log — with a short
pause between steps and a page browsed now and then. Some use the JSON API instead of the UI.

Every decision the server accepts is tallied by event (and object), every refusal by kind."""
import random
import re
import threading
import time
import traceback

from .load_http import Http, Stop, Tally, checklist, csrf_token, endpoint_of, forms

PASSWORD = 'demo1234'
APPROVALS = ('approve_enrolment', 'approve_stage', 'cosign_stage', 'recommend', 'approve')
RETURNS = ('return_enrolment', 'return_stage', 'decline_cosign', 'return')
LEADER_STEPS = ('submit_stage', 'resubmit_enrolment', 'start_next_stage')
OVERRIDE_REASON = '分会主席外出培训，经分会委托由处工会代为审核。'
REASONS = ['材料基本齐全，同意。', '请补充近两个月的活动记录后重新提交。', '部分职工学习计划缺少签字，请补齐。']


class Person(threading.Thread):
    """One simulated user: log in (UI) or carry a token (API), then work until the deadline."""
    pages = ('/workflows',)
    browse_share = 0.15

    def __init__(self, username, port, schedule, seed, think, token=None, participation_ids=(), branch_ids=()):
        super().__init__(name=username, daemon=True)
        self.username, self.think, self.schedule = username, think, schedule
        self.rng = random.Random(seed)
        self.tally = Tally(type(self).__name__)
        self.http = Http(port, self.tally, schedule)
        self.participation_ids, self.branch_ids = list(participation_ids), list(branch_ids)
        if token:
            self.http.headers['Authorization'] = f'Bearer {token}'
        self.csrf = ''
        self.writes = 0

    def run(self):
        try:
            try:
                self.login()
            finally:
                self.schedule.ready.wait()         # everybody is signed in: the clock starts
            while time.monotonic() < self.schedule.deadline:
                if self.rng.random() < self.browse_share:
                    self.browse()
                else:
                    self.work()
                pause = min(self.rng.uniform(0, 2 * self.think), self.schedule.deadline - time.monotonic())
                time.sleep(max(0.0, pause))
        except Stop:
            pass
        except Exception:       # a bug in the simulated person, not in the server: reported, fails the run
            self.tally.client_errors.append(f'{self.username}: {traceback.format_exc()}')
        finally:
            self.tally.cpu_s = time.thread_time()       # what simulating this person cost the machine

    def login(self):
        page = self.get('/login', 'GET /login')
        answer = self.http.send('POST', '/login', 'POST /login', form=[
            ('csrf_token', csrf_token(page.text)), ('username', self.username), ('password', PASSWORD)])
        if answer.status != 302:
            raise RuntimeError(f'login of {self.username} answered {answer.status}')

    def get(self, path, endpoint, follow=True, finishing=False):
        answer = self.http.send('GET', path, endpoint, follow=follow, finishing=finishing)
        if answer.status == 200 and 'csrf_token' in answer.text:
            self.csrf = csrf_token(answer.text) or self.csrf
        return answer

    def browse(self):
        path = self.rng.choice(self.pages)
        self.get(path, f'GET {path}')

    def work(self):
        raise NotImplementedError

    def post(self, action, fields, endpoint, object_type, object_id, event, files=None):
        """Post a form as a browser would (without `back`, so a refusal keeps its status); tally the outcome."""
        form = [('csrf_token', self.csrf)] + list(fields)
        answer = self.http.send('POST', action, endpoint, form=form, files=files)
        if answer.status == 303:
            self.tally.accept(object_type, object_id, event)
            self.get(answer.location, endpoint_of(answer.location), finishing=True)    # the browser lands here
            return True
        self.refused(answer)
        return False

    def refused(self, answer):
        """Tally a refusal by status and kind (read from the error page); 5xx are tallied by Http already."""
        if answer.status == 0 or answer.status >= 500:
            return
        message = re.search(r'error-page">.*?<p>(.*?)</p>', answer.text, re.S)
        message = message.group(1).strip() if message else answer.text[:200]
        kind = ('conflict' if '已被他人修改' in message else 'invalid_transition' if '当前状态' in message
                else 'locked' if '锁定' in message or '已验收' in message else 'other')
        key = f'{answer.status} {kind}'
        self.tally.refused[key] += 1
        self.tally.refusal_samples.setdefault(key, message[:200])

    def evidence_text(self, pid, rid):
        self.writes += 1
        return f'{self.username} 第{self.writes}次填写（班组 #{pid} 要求 #{rid}）：已组织全员学习并留存记录。'


class UiLeader(Person):
    """A team leader in the browser: team page → write a missing or returned item → … → submit the stage."""
    pages = ('/', '/notices', '/workflows', '/account/tokens')

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.teams, self.current, self.fixed = [], 0, set()

    def work(self):
        if not self.teams:
            answer = self.get('/team', 'GET /team', follow=False)
            self.teams = ([answer.location.rsplit('/', 1)[-1]] if answer.status in (302, 303)
                          else list(dict.fromkeys(re.findall(r'href="/teams/(\d+)"', answer.text))))
            return
        team = self.teams[self.current % len(self.teams)]
        page = self.get(f'/teams/{team}', 'GET /teams/:id')
        if page.status != 200:
            return
        if not (self.write_evidence(page.text) or self.step(page.text)):
            self.current += 1                      # nothing to do here now: the next team

    def write_evidence(self, page):
        editable = forms(page, '/participations/')
        if not editable:
            return False
        pid = int(editable[0]['action'].split('/')[2])
        by_rid = {int(f['action'].rsplit('/', 1)[-1]): f for f in editable}
        todo = [rid for rid, red in checklist(page) if red and rid in by_rid and (pid, rid) not in self.fixed]
        if not todo and self.rng.random() < 0.1:
            todo = list(by_rid)                    # now and then, improve a draft
        if not todo:
            return False
        rid = todo[0]
        text = self.evidence_text(pid, rid)
        files = ([('files', f'学习记录{self.writes}.txt', text.encode())] if self.rng.random() < 0.2 else None)
        fields = [('version', by_rid[rid]['fields']['version']), ('text', text)]
        if self.post(by_rid[rid]['action'], fields, 'POST /participations/:id/evidence/:rid', 'participation', pid,
                     'edit_evidence', files=files):
            self.tally.texts[(pid, rid)] = text
            self.fixed.add((pid, rid))
        return True

    def step(self, page):
        acts = {f['fields'].get('event'): f for f in forms(page, '/act/participation/')
                if not f['blocked'] and not f['reason_required']}
        for event in LEADER_STEPS:
            if event in acts:
                pid = int(acts[event]['action'].rsplit('/', 1)[-1])
                if self.post(acts[event]['action'], [('event', event), ('version', acts[event]['fields']['version'])],
                             'POST /act/:type/:id', 'participation', pid, event) and event == 'submit_stage':
                    self.fixed = {key for key in self.fixed if key[0] != pid}
                return True
        return False


class UiReviewer(Person):
    """A branch chair or party secretary in the browser: inbox → an item's page → approve / return / co-sign,
    or tick several and approve them in bulk."""
    pages = ('/branches', '/notices', '/workflows')
    approve_share, bulk_share = 0.75, 0.2

    def work(self):
        inbox = self.get('/inbox', 'GET /inbox')
        rows = re.findall(r'<tr data-type="(\w+)" data-id="(\d+)">', inbox.text)
        if not rows:
            return
        tokens = re.findall(r'name="items" value="([^"]+)"', inbox.text)
        if len(tokens) > 1 and self.rng.random() < self.bulk_share:
            return self.bulk(tokens)
        object_type, object_id = self.rng.choice(rows[:6])
        self.decide(object_type, int(object_id))

    def decide(self, object_type, object_id, override_reason=None):
        page = self.get(f'/objects/{object_type}/{object_id}', 'GET /objects/:type/:id')
        acts = [f for f in forms(page.text, f'/act/{object_type}/') if not f['blocked']]
        approvals = [f for f in acts if f['fields'].get('event') in APPROVALS]
        returns = [f for f in acts if f['fields'].get('event') in RETURNS]
        if override_reason is not None:
            returns = []
        choice = (self.rng.choice(approvals) if approvals and (not returns or self.rng.random() < self.approve_share)
                  else self.rng.choice(returns) if returns else None)
        if choice is None:
            return
        event = choice['fields']['event']
        fields = [('event', event), ('version', choice['fields']['version'])]
        if choice['reason_required']:
            fields.append(('reason', override_reason or self.rng.choice(REASONS[1:])))
        if choice['requirement_ids']:
            fields += [('requirement_ids', rid) for rid in self.rng.sample(
                choice['requirement_ids'], min(len(choice['requirement_ids']), self.rng.choice([1, 2])))]
        self.post(choice['action'], fields, 'POST /act/:type/:id', object_type, object_id, event)

    def bulk(self, tokens):
        """Tick up to five items waiting for the same step and approve them at once."""
        event = self.rng.choice(tokens).rsplit(':', 1)[-1]
        chosen = [t for t in tokens if t.endswith(':' + event)][:5]
        form = [('csrf_token', self.csrf)] + [('items', t) for t in chosen]
        answer = self.http.send('POST', '/inbox/bulk', 'POST /inbox/bulk', form=form)
        if answer.status != 303:
            return self.refused(answer)
        page = self.get(answer.location, 'GET /inbox', finishing=True)    # the outcome is on this page
        done = re.search(r'已批量通过 (\d+) 项', page.text)
        done = int(done.group(1)) if done else 0
        failed = len(re.findall(r'class="flash error"', page.text))
        if done == len(chosen):
            for token in chosen:
                object_type, object_id, _, _ = token.split(':')
                self.tally.accept(object_type, object_id, event)
        elif done:
            self.tally.accept('participation', None, event, done)
        if failed:
            self.tally.refused[f'303 bulk item refused ({event})'] += failed


class UiStaff(UiReviewer):
    """Union staff in the browser: the inbox and the campaign pages, and stepping in on a branch's waiting
    reviews with a recorded reason (racing the chair or the secretary: whoever comes second gets 409)."""
    pages = ('/campaigns', '/notices', '/workflows')
    WAITING = re.compile(r'href="/objects/participation/(\d+)"><span class="badge \w*" '
                         r'data-state="(?:requested|submitted|awaiting_cosign)"')

    def work(self):
        if self.rng.random() < 0.3:
            return self.get('/inbox', 'GET /inbox')
        page = self.get(f'/branches/{self.rng.choice(self.branch_ids)}', 'GET /branches/:id')
        waiting = self.WAITING.findall(page.text)
        if waiting:
            self.decide('participation', int(self.rng.choice(waiting)), override_reason=OVERRIDE_REASON)


class UiAuditor(Person):
    """The auditor in the browser: the global log, object histories, now and then the chain's integrity."""
    pages = ('/audit', '/workflows')

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.verified = 0.0

    def work(self):
        roll = self.rng.random()
        if roll < 0.4:
            self.get('/audit', 'GET /audit')
        elif roll < 0.5 and time.monotonic() - self.verified > 15:
            self.verified = time.monotonic()
            self.get('/audit/integrity', 'GET /audit/integrity')
        else:
            pid = self.rng.choice(self.participation_ids)
            self.get(f'/objects/participation/{pid}', 'GET /objects/:type/:id')
