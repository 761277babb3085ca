"""The simulated people's browser: one loopback HTTP connection per request, a cookie jar, every answer timed
and tallied by endpoint, and small parsers for the pages' forms. Standard library only."""
import html
import http.client
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from http.cookies import SimpleCookie


class Stop(Exception):
    """The run is over: no new request is sent once the deadline has passed."""


class Schedule:
    """When the run ends (set once everybody has logged in), and the barrier they wait at until then."""

    def __init__(self, people):
        self.deadline = float('inf')
        self.ready = threading.Barrier(people + 1)


class Tally:
    """What one simulated person saw: latencies and statuses per endpoint, decisions the server accepted,
    refusals by kind, the last evidence text accepted per item, and anything that went wrong."""

    def __init__(self, kind=''):
        self.kind = kind                        # which sort of simulated person
        self.ms = defaultdict(list)             # endpoint → [milliseconds]
        self.sent_at, self.accepted_at = [], []  # time.monotonic() of each request, of each accepted decision
        self.statuses = defaultdict(Counter)    # endpoint → {status: n}
        self.accepted = Counter()               # event → n (evidence edits count as 'edit_evidence')
        self.attributed = Counter()             # (object type, id, event) → n, where the object is known
        self.refused = Counter()                # 'status kind' → n, e.g. '409 conflict'
        self.refusal_samples = {}               # 'status kind' → what the server said, the first time
        self.texts = {}                         # (participation id, requirement id) → last accepted text
        self.server_errors = []                 # (endpoint, status, start of the body)
        self.transport_errors = []              # (endpoint, error)
        self.client_errors = []                 # tracebacks of the simulated people themselves
        self.cpu_s = 0.0

    def accept(self, object_type, object_id, event, n=1):
        self.accepted[event] += n
        self.accepted_at += [time.monotonic()] * n
        if object_id is not None:
            self.attributed[(object_type, int(object_id), event)] += n


class Answer:
    def __init__(self, status, headers, text):
        self.status, self.headers, self.text = status, headers, text

    def json(self):
        return json.loads(self.text)

    @property
    def location(self):
        value = self.headers.get('location', '')
        parts = urllib.parse.urlsplit(value)
        return parts.path + (f'?{parts.query}' if parts.query else '')


class Http:
    """A browser for one person: keeps the session cookie, follows redirects when asked."""

    def __init__(self, port, tally, schedule, timeout=60):
        self.port, self.tally, self.schedule, self.timeout = port, tally, schedule, timeout
        self.cookies = {}
        self.headers = {}                       # sent with every request (the API token)

    def send(self, method, path, endpoint, *, form=None, files=None, body=None, headers=None, follow=False,
             finishing=False):
        """One request; `finishing`: it completes an action already accepted, so it is sent even past the end."""
        if time.monotonic() >= self.schedule.deadline and not finishing:
            raise Stop()
        data, sent = self._encode(form, files, body)
        sent.update(self.headers)
        sent.update(headers or {})
        if self.cookies:
            sent['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        started = time.perf_counter()
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read().decode('utf-8', 'replace')
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
            self._keep_cookies(response.headers.get_all('Set-Cookie') or [])
        except OSError as err:
            self.tally.transport_errors.append((endpoint, repr(err)))
            return Answer(0, {}, '')
        finally:
            connection.close()
        self._count(endpoint, answer, started)
        if follow and answer.status in (301, 302, 303) and answer.location:
            return self.send('GET', answer.location, endpoint_of(answer.location), follow=True, finishing=finishing)
        return answer

    def _count(self, endpoint, answer, started):
        self.tally.ms[endpoint].append((time.perf_counter() - started) * 1000)
        self.tally.sent_at.append(time.monotonic())
        self.tally.statuses[endpoint][answer.status] += 1
        if answer.status >= 500:
            self.tally.server_errors.append((endpoint, answer.status, answer.text[:300]))

    @staticmethod
    def _encode(form, files, body):
        if body is not None:
            return json.dumps(body).encode(), {'Content-Type': 'application/json'}
        if files:
            return _multipart(form or [], files)
        if form is not None:
            return urllib.parse.urlencode(form).encode(), {'Content-Type': 'application/x-www-form-urlencoded'}
        return None, {}

    def _keep_cookies(self, lines):
        for line in lines:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if not morsel.value or morsel['max-age'] == '0' or '1970' in morsel['expires']:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def _multipart(form, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in form:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b'\r\n')
    parts.append(f'--{boundary}--\r\n'.encode())
    return b''.join(parts), {'Content-Type': f'multipart/form-data; boundary={boundary}'}


ENDPOINTS = [(re.compile(pattern), name) for pattern, name in [
    (r'^/objects/\w+/\d+$', '/objects/:type/:id'), (r'^/teams/\d+$', '/teams/:id'),
    (r'^/branches/\d+$', '/branches/:id'), (r'^/campaigns/\d+$', '/campaigns/:id'),
    (r'^/campaigns/\d+/evaluation$', '/campaigns/:id/evaluation')]]


def endpoint_of(path):
    path = path.split('?')[0].split('#')[0]
    return 'GET ' + next((name for pattern, name in ENDPOINTS if pattern.match(path)), path)


# --- reading the pages -------------------------------------------------------------------------------

FORM = re.compile(r'<form\b([^>]*)>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def csrf_token(page):
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else ''


def forms(page, action_prefix):
    """The page's forms posting to a path starting with `action_prefix`: action, hidden fields, whether a
    reason is required, the requirement checkboxes (returning items) and whether a guard blocks it now."""
    found = []
    for attrs, body in FORM.findall(page):
        action = re.search(r'action="([^"]*)"', attrs)
        if not action or not html.unescape(action.group(1)).startswith(action_prefix):
            continue
        found.append({'action': html.unescape(action.group(1)),
                      'fields': {k: html.unescape(v) for k, v in HIDDEN.findall(body)},
                      'reason_required': bool(re.search(r'name="reason"[^>]*\brequired\b', body)),
                      'requirement_ids': re.findall(r'name="requirement_ids" value="(\d+)"', body),
                      'blocked': 'flash error' in body})
    return found


def checklist(page):
    """[(requirement id, needs work)] from a team page: work is needed where the badge is red (missing, or
    returned by the reviewer)."""
    return [(int(rid), 'badge red' in body) for rid, body in re.findall(r'<li id="req-(\d+)">(.*?)</li>', page, re.S)]
