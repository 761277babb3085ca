"""Server-side sessions: several per person (the PC and the phone), each a user_session row that the session
cookie names by a random key stored only as its SHA-256 hash. Deleting the row ends the session at once, whoever
holds a copy of the cookie: signing out, ending it on the account page, a new password, being idle too long.

Times here are the real time (UTC), not the engine's clock, which tests and the demo move through months.
`last_seen_at` is written at most once a minute per session, so browsing costs no write per request."""
import datetime
import hashlib
import re
import secrets

from models import User, UserSession, utcnow

TOUCH_EVERY = datetime.timedelta(minutes=1)
MAX_PER_USER = 20           # a person's least recently used sessions beyond this end when they sign in again
KEY_LENGTH = 43             # secrets.token_urlsafe(32)


def digest(key):
    return hashlib.sha256(key.encode('ascii')).hexdigest()


def _idle_limit(config):
    days = config.get('SESSION_IDLE_DAYS') or 0
    return datetime.timedelta(days=days) if days else None


def start(user, ip, user_agent, config):
    """A new session for `user` signing in from `ip` with `user_agent`; returns its key (for the cookie only)."""
    now = utcnow()
    idle = _idle_limit(config)
    if idle:
        UserSession.delete().where(UserSession.last_seen_at < now - idle).execute()
    key = secrets.token_urlsafe(32)
    UserSession.create(user=user, key_hash=digest(key), created_at=now, last_seen_at=now,
                       ip=(ip or 'unknown')[:64], agent=describe(user_agent))
    beyond = [s.id for s in UserSession.select(UserSession.id).where(UserSession.user == user)
              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()).offset(MAX_PER_USER)]
    if beyond:
        UserSession.delete().where(UserSession.id.in_(beyond)).execute()
    return key


def load(key, config):
    """The live session (with its user) this cookie key names, or None: unknown or ended key, idle too long,
    an inactive or system user. Notes when it was last seen."""
    if not isinstance(key, str) or len(key) != KEY_LENGTH or not key.isascii():
        return None         # also the "<user id>:<nonce>" cookies of the release before
    row = (UserSession.select(UserSession, User).join(User)
           .where(UserSession.key_hash == digest(key)).first())
    if row is None or not row.user.active or row.user.is_system:
        return None
    now, idle = utcnow(), _idle_limit(config)
    if idle and row.last_seen_at < now - idle:
        UserSession.delete().where(UserSession.id == row.id).execute()
        return None
    if row.last_seen_at < now - TOUCH_EVERY:
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
        row.last_seen_at = now
    return row


def of(user):
    """The user's sessions, most recently used first."""
    return list(UserSession.select().where(UserSession.user == user)
                .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))


def end(user, session_id):
    """End one of the user's own sessions; False when they have none with that id."""
    return UserSession.delete().where(UserSession.id == session_id, UserSession.user == user).execute() == 1


def end_all(user, keep=None):
    """End every session of the user (but `keep`, a session id); returns how many ended."""
    query = UserSession.delete().where(UserSession.user == user)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return query.execute()


_BROWSERS = [('MicroMessenger', 'WeChat'), ('DingTalk', 'DingTalk'), ('Edg', 'Edge'), ('Firefox', 'Firefox'),
             ('FxiOS', 'Firefox'), ('CriOS', 'Chrome'), ('HeadlessChrome', 'Chrome'), ('Chrome', 'Chrome'),
             ('Version', 'Safari')]
_SYSTEMS = [('HarmonyOS', 'HarmonyOS'), ('Android', 'Android'), ('iPhone', 'iOS'), ('iPad', 'iPadOS'),
            ('Windows', 'Windows'), ('Mac OS X', 'macOS'), ('CrOS', 'ChromeOS'), ('Linux', 'Linux')]


def describe(user_agent):
    """A short description of the browser from its User-Agent, e.g. "Chrome 120 · Android", made only of fixed
    names and digits ('' when nothing is recognised): the header itself is never shown or stored."""
    text = (user_agent or '')[:512]
    browser = ''
    for token, name in _BROWSERS:
        found = re.search(rf'\b{re.escape(token)}/(\d{{1,4}})', text)
        if found:
            browser = f'{name} {found.group(1)}'
            break
    system = next((name for token, name in _SYSTEMS if token in text), '')
    return ' · '.join(part for part in (browser, system) if part)
