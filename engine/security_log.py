"""The security log: one record per security-relevant event (a refused authorisation or engine action, a sign-in,
a sign-out, a CSRF failure, throttling), its message one line of fields any handler can print as it is.

    event=approve_enrolment outcome=hidden user=12 username=chair2 client=10.0.0.7 object=participation#7 reason="…"

Who served the request (the web app) adds where it came from through `set_context`; the time is added by the
log's formatter (web.logging_setup: UTC, ISO 8601). Values a client could have chosen are never written raw: a
value made of plain characters stands as it is, anything else is quoted and escaped, so it can neither start a
new line nor forge another field."""
import contextlib
import json
import logging
import re
import unicodedata

from engine.errors import EngineError

log = logging.getLogger('chuangzheng.security')

FIELDS = ('event', 'outcome', 'user', 'username', 'client', 'object', 'reason')
_context = None          # () -> {'client': …, 'user': …, 'username': …} of the request being served, or {}

_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f]')
_PLAIN = re.compile(r'[A-Za-z0-9_.:#@/+-]{1,100}')


def log_safe(value, limit=80):
    """A client-supplied value for a log line: control, format (bidi, zero-width) and line/paragraph separator
    characters removed, at most `limit` characters, in double quotes with quotes and backslashes escaped, so
    it can neither start a new line nor forge another field of the line."""
    text = '' if value is None else str(value)
    text = ''.join(ch for ch in _UNSAFE.sub('', text) if unicodedata.category(ch) not in ('Cc', 'Cf', 'Cs', 'Zl', 'Zp'))
    return json.dumps(text[:limit], ensure_ascii=False)


def field(value, limit=80):
    """One value of a line: '-' when unknown, plain words and numbers as they are, anything else quoted."""
    if value is None or value == '':
        return '-'
    text = str(value)
    return text if _PLAIN.fullmatch(text) else log_safe(text, limit)


def set_context(provider):
    global _context
    _context = provider


def object_name(record):
    """'participation#7' for a workflow record, 'team#3' for a team …; None for no record."""
    if record is None:
        return None
    from engine.door.kinds import kind_of
    kind = kind_of(record).name if kind_of(record) else type(record).__name__.lower()
    return f'{kind}#{getattr(record, "id", None) if getattr(record, "id", None) is not None else "new"}'


def event(name, outcome, *, actor=None, username=None, obj=None, reason=None, level=logging.WARNING, **known):
    """Log one security event. `actor`: the user row (id and username); `obj`: a record or a name such as
    'team#3'; `known`: fields already known (client, user) that the request's context must not replace."""
    values = {'event': name, 'outcome': outcome, 'user': getattr(actor, 'id', None),
              'username': username if username is not None else getattr(actor, 'username', None),
              'object': obj if obj is None or isinstance(obj, str) else object_name(obj), 'reason': reason, **known}
    context = _context() if _context else {}
    if values['user'] is None and values['username'] is None:      # the person as the request knows them
        values.update(user=context.get('user'), username=context.get('username'))
    if values.get('client') is None:
        values['client'] = context.get('client')
    line = ' '.join(f'{key}={field(values.get(key), 200 if key == "reason" else 80)}' for key in FIELDS)
    log.log(level, '%s', line, extra={'security_event': values})


@contextlib.contextmanager
def refusals(name, actor, obj):
    """Log an engine action refused for any reason, once (a refused authorisation is logged where it is decided,
    engine.door.permissions.refuse): a guard, a conflict, an event that does not apply, bad input."""
    try:
        yield
    except EngineError as err:
        if not getattr(err, 'logged', False):
            event(name, err.code, actor=actor, obj=obj, reason=err.message, level=logging.INFO)
            err.logged = True
        raise
