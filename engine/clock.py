"""The engine's notion of "now" (UTC, naive). Replaceable so the demo can lay down a history over months."""
import datetime

_override = None
CHINA = datetime.timezone(datetime.timedelta(hours=8), 'CST')     # China Standard Time, no daylight saving


def now():
    if _override is not None:
        return _override
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def set_now(value):
    """Pin the clock (None restores real time). Used by the demo seed and tests."""
    global _override
    _override = value


def china_day_start(day):
    """The UTC moment (naive, like every stored time) at which `day` begins in China."""
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=CHINA)
    return start.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def china_today():
    return now().replace(tzinfo=datetime.timezone.utc).astimezone(CHINA).date()
