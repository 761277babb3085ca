"""The engine's notion of "now" (UTC, naive). Replaceable so the demo can lay down a history over months."""
import datetime

_override = None


def now():
    if _override is not None:
        return _override
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def set_now(value):
    """Pin the clock (None restores real time). Used by the demo seed and tests."""
    global _override
    _override = value
