"""Login throttling: after too many failed sign-ins for one username, or from one client address, within a
sliding window, further attempts are refused (the correct password too) until the oldest counted failure
leaves the window.

Attempts are rows of login_attempt, so the limit holds across worker processes. Each attempt is recorded
(as pending) before its password is checked. The username limit counts pending attempts too, so concurrent
guesses at one account never get past it together. The address limit counts only finished failures: a whole
office behind one NAT address signing in at nine o'clock must not be refused because fifty correct sign-ins
are in flight at once (a burst of guesses over many usernames can overshoot it by the attempts in flight;
each username still stops at its own limit). A successful sign-in clears the username's failures
(but not the address's: one good account must not reset an address that is guessing others). Refused
attempts are not counted, so the lock ends on time however long someone keeps knocking; rows older than a
day are deleted."""
import datetime
import re
from dataclasses import dataclass

from peewee import fn

from engine import clock
from models import LoginAttempt

KEEP = datetime.timedelta(days=1)
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


@dataclass
class Refusal:
    scope: str            # 'user' or 'ip'
    retry_after: int      # seconds


def _key(username):
    return _CONTROL.sub('', username or '')[:60]


def _failed_or_pending(query):
    return query.where((LoginAttempt.success == False) | LoginAttempt.success.is_null())  # noqa: E712


def _failed(query):
    return query.where(LoginAttempt.success == False)  # noqa: E712


def _refusal(failures, limit, window, now, scope):
    """Failures in the window, oldest first: refuse while `limit` or more are in it."""
    if limit <= 0 or len(failures) < limit:
        return None
    until = failures[len(failures) - limit] + window
    return Refusal(scope, max(1, int((until - now).total_seconds()) + 1))


def begin(username, ip, config):
    """Record an attempt (pending) and decide: (attempt, None) to go on checking the password, or
    (None, Refusal) when the username or the address is over its limit."""
    now = clock.now()
    window = datetime.timedelta(seconds=config['LOGIN_WINDOW_SECONDS'])
    key, address = _key(username), (ip or 'unknown')[:64]
    LoginAttempt.delete().where(LoginAttempt.at < now - max(KEEP, window)).execute()
    attempt = LoginAttempt.create(username=key, ip=address, at=now, success=None)
    others = LoginAttempt.select(LoginAttempt.at).where(LoginAttempt.id != attempt.id,
                                                        LoginAttempt.at > now - window)
    last_success = (LoginAttempt.select(fn.MAX(LoginAttempt.id))
                    .where(LoginAttempt.username == key, LoginAttempt.success == True).scalar() or 0)  # noqa: E712
    own = others.where(LoginAttempt.username == key, LoginAttempt.id > last_success)
    by_user = [r.at for r in _failed_or_pending(own).order_by(LoginAttempt.at)]
    by_ip = [r.at for r in _failed(others.where(LoginAttempt.ip == address)).order_by(LoginAttempt.at)]
    refusal = (_refusal(by_user, config['LOGIN_MAX_FAILURES_PER_USER'], window, now, 'user')
               or _refusal(by_ip, config['LOGIN_MAX_FAILURES_PER_IP'], window, now, 'ip'))
    if refusal is not None:
        attempt.delete_instance()
        return None, refusal
    return attempt, None


def finish(attempt, success):
    LoginAttempt.update(success=bool(success)).where(LoginAttempt.id == attempt.id).execute()
