"""Login throttling: guesses are limited per (username, client address), per address, and per username from
addresses it has never signed in from — with a delay that doubles, not a lock — so that a stranger cannot lock
a colleague out, while guessing one password stays slow however many addresses it comes from.

Three limits, checked before the password is (the correct password too is refused while one holds, with 429 and
Retry-After; refused attempts are not counted, so knocking on does not prolong anything):

1. (username, address): LOGIN_MAX_FAILURES (5) failures within LOGIN_WINDOW (15 min) refuse that username from
   that address until the oldest leaves the window. A success from the address clears its failures. This is what
   stops guessing from one place; the person at another address is not affected.
2. address: LOGIN_MAX_FAILURES_PER_IP (20) failures within the window, whatever the usernames, refuse the address
   (one address trying many usernames). Only finished failures count: an office behind one NAT address signing
   in at nine o'clock must not be refused because fifty correct sign-ins are in flight at once; a burst of
   guesses over many usernames can therefore overshoot it by the attempts in flight.
3. username, from addresses it has not signed in from within 30 days ("unknown"): after LOGIN_DELAY_AFTER (10)
   failures from unknown addresses within a day, each next attempt from an unknown address waits 30 s after the
   latest of them, twice as long after every further failure, at most LOGIN_DELAY_MAX (1 hour). This is what
   slows guessing spread over many addresses (each staying under limit 1): some 10 guesses, then 7 more in the
   first hour, then one an hour — about 40 a day per username instead of 480 under a 5-per-15-minutes lock.
   A success does not reset it (it proves the person knows the password, not that the guessing stopped).

Why not a lock per username, as before: five wrong passwords from anywhere locked the owner out everywhere for
15 minutes, so anyone who knew a colleague's username could keep them out all day. Now the owner's own addresses
(where they signed in before: their office PC, their phone at home) are exempt from limit 3, and a stranger at
one address exhausts limit 1 before reaching it — a single stranger cannot delay the owner anywhere. What
remains: a stranger who shares the owner's address (behind one NAT) can still use up limit 1 for that address
for 15 minutes; many addresses together can delay the owner at addresses they have never used; and a new user
with no known address yet is delayed everywhere while someone guesses at many addresses.

Attempts are rows of login_attempt, so the limits hold across worker processes. Each attempt is recorded (as
pending) before its password is checked, and limits 1 and 3 count pending attempts too, so concurrent guesses
never get past them together (under a burst they err on refusing). Attempts older than a day are deleted; known
addresses (login_known_address) not used for 30 days too."""
import datetime
import re
from dataclasses import dataclass

from peewee import IntegrityError, fn

from engine import clock
from models import KnownAddress, LoginAttempt, database

KEEP = datetime.timedelta(days=1)
KNOWN_FOR = datetime.timedelta(days=30)
FIRST_DELAY = 30                 # seconds, doubling with every further failure
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


@dataclass
class Refusal:
    scope: str            # 'pair' (username from this address), 'ip' (this address), 'user' (the username's delay)
    retry_after: int      # seconds


def _key(username):
    return _CONTROL.sub('', username or '')[:60]


def _failed_or_pending(query):
    return query.where((LoginAttempt.success == False) | LoginAttempt.success.is_null())  # noqa: E712


def _failed(query):
    return query.where(LoginAttempt.success == False)  # noqa: E712


def _seconds(until, now):
    return max(1, int((until - now).total_seconds()) + 1)


def _over_limit(times, limit, window, now, scope):
    """`times`: failures in the window, oldest first; refuse while `limit` or more are in it."""
    if limit <= 0 or len(times) < limit:
        return None
    return Refusal(scope, _seconds(times[len(times) - limit] + window, now))


def delay_after(failures, config):
    """Seconds an unknown address waits after the latest of `failures` failures at one username (0: none)."""
    extra = failures - config['LOGIN_DELAY_AFTER']
    if extra < 0:
        return 0
    return min(config['LOGIN_DELAY_MAX_SECONDS'], FIRST_DELAY * 2 ** min(extra, 30))


def _is_known(key, address, now):
    return KnownAddress.select().where(KnownAddress.username == key, KnownAddress.ip == address,
                                       KnownAddress.last_success_at > now - KNOWN_FOR).exists()


def begin(username, ip, config):
    """Record an attempt (pending) and decide: (attempt, None) to go on checking the password, or
    (None, Refusal) when one of the three limits holds."""
    now = clock.now()
    window = datetime.timedelta(seconds=config['LOGIN_WINDOW_SECONDS'])
    key, address = _key(username), (ip or 'unknown')[:64]
    LoginAttempt.delete().where(LoginAttempt.at < now - max(KEEP, window)).execute()
    attempt = LoginAttempt.create(username=key, ip=address, at=now, success=None)
    refusal = _check(attempt, key, address, now, window, config)
    if refusal is not None:
        attempt.delete_instance()
        return None, refusal
    return attempt, None


def _check(attempt, key, address, now, window, config):
    others = LoginAttempt.select(LoginAttempt.at).where(LoginAttempt.id != attempt.id)
    recent = others.where(LoginAttempt.at > now - window)
    pair = recent.where(LoginAttempt.username == key, LoginAttempt.ip == address)
    last_success = pair.select(fn.MAX(LoginAttempt.id)).where(LoginAttempt.success == True).scalar() or 0  # noqa: E712
    by_pair = [r.at for r in _failed_or_pending(pair.where(LoginAttempt.id > last_success)).order_by(LoginAttempt.at)]
    refusal = _over_limit(by_pair, config['LOGIN_MAX_FAILURES_PER_USER'], window, now, 'pair')
    if refusal is None:
        by_ip = [r.at for r in _failed(recent.where(LoginAttempt.ip == address)).order_by(LoginAttempt.at)]
        refusal = _over_limit(by_ip, config['LOGIN_MAX_FAILURES_PER_IP'], window, now, 'ip')
    if refusal is None and not _is_known(key, address, now):
        known = KnownAddress.select(KnownAddress.ip).where(KnownAddress.username == key,
                                                           KnownAddress.last_success_at > now - KNOWN_FOR)
        elsewhere = _failed_or_pending(others.where(LoginAttempt.username == key, LoginAttempt.at > now - KEEP,
                                                    LoginAttempt.ip.not_in(known)))
        times = [r.at for r in elsewhere.order_by(LoginAttempt.at.desc())]     # a few dozen a day at most
        wait = delay_after(len(times), config)
        if wait and times[0] + datetime.timedelta(seconds=wait) > now:
            refusal = Refusal('user', _seconds(times[0] + datetime.timedelta(seconds=wait), now))
    return refusal


def finish(attempt, success):
    """Record the outcome; a success makes the address known for the username (for 30 days from now)."""
    LoginAttempt.update(success=bool(success)).where(LoginAttempt.id == attempt.id).execute()
    if success:
        now = clock.now()
        KnownAddress.delete().where(KnownAddress.last_success_at < now - KNOWN_FOR).execute()
        seen = (KnownAddress.update(last_success_at=now)
                .where(KnownAddress.username == attempt.username, KnownAddress.ip == attempt.ip).execute())
        if not seen:
            try:
                with database.atomic():
                    KnownAddress.create(username=attempt.username, ip=attempt.ip, last_success_at=now)
            except IntegrityError:      # the same person signing in twice at once from there: known already
                pass
