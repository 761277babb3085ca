"""Time-based steps, run by one idempotent command every minute (cron / systemd timer), never by a
thread inside web workers. Safe to run twice or concurrently: each step is an ordinary audited transition
by the system user, and a step someone else already took is skipped."""
from models import Application

from engine import clock
from engine.errors import Conflict, GuardFailed, InvalidTransition
from engine.organisation.org import system_user
from engine.door.runtime import fire


def due_notices(now):
    return list(Application.select().where(Application.state == 'publicized', Application.notice_ends_at <= now))


def tick():
    """Close every public notice whose period is over (and has no open objection). Returns a summary."""
    system = system_user()
    summary = {'notices_closed': 0, 'skipped': 0}
    for application in due_notices(clock.now()):
        try:
            fire(application, 'close_notice', system)
            summary['notices_closed'] += 1
        except (Conflict, InvalidTransition, GuardFailed):
            summary['skipped'] += 1   # taken concurrently, or an objection is still open
    return summary
