"""Typed refusals. The web layer maps each to one HTTP status and shows `message` to the user."""


class EngineError(Exception):
    status = 400
    code = 'error'

    def __init__(self, message, details=None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(EngineError):
    status, code = 404, 'not_found'


class NotPermitted(EngineError):
    status, code = 403, 'not_permitted'


class NotVisible(NotPermitted):
    """Refused because the person may not see the object at all: answered exactly as NotFound is (404, the same
    words), so that nobody can tell another team's object from one that does not exist."""
    status, code = 404, 'not_found'


NOUNS = {'campaign': ('创建活动', 'campaign'), 'participation': ('班组参与', 'participation'),
         'application': ('评比申报', 'application'), 'innovation': ('创新成果', 'innovation result'),
         'team': ('班组', 'team'), 'branch': ('分会', 'branch'), 'unit': ('单位', 'unit'),
         'attachment': ('附件', 'attachment')}


def not_found_message(kind, ident):
    """The one text for "there is no such object" and "you may not see it" (see NotVisible)."""
    zh, en = NOUNS.get(kind, (kind, kind))
    return f'{zh} #{ident} 不存在或您无权查看 ({en} #{ident} not found or not yours to see)'


def not_found(kind, ident):
    return NotFound(not_found_message(kind, ident))


def not_visible(kind, ident):
    return NotVisible(not_found_message(kind, ident))


class InvalidTransition(EngineError):
    """The event does not exist or cannot be fired from the object's current state."""
    status, code = 409, 'invalid_transition'


class GuardFailed(EngineError):
    """One or more guards refused; `reasons` lists every failed guard with its text."""
    status, code = 409, 'guard_failed'

    def __init__(self, reasons, overridable=False):
        self.reasons = list(reasons)
        self.overridable = overridable
        text = '；'.join(r.message for r in self.reasons)
        super().__init__(text, {'reasons': [r.as_dict() for r in self.reasons], 'overridable': overridable})


class Conflict(EngineError):
    status, code = 409, 'conflict'

    def __init__(self, message='该记录已被他人修改，请刷新后重试 (changed by someone else, reload)', details=None):
        super().__init__(message, details)


class BadInput(EngineError):
    status, code = 422, 'bad_input'


class NotAuthenticated(EngineError):
    """No valid credentials (e.g. a missing, unknown or revoked API token)."""
    status, code = 401, 'not_authenticated'


class Throttled(EngineError):
    """Too many requests in the current window; `retry_after` is the number of seconds to wait."""
    status, code = 429, 'throttled'

    def __init__(self, retry_after, message=None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f'请求过于频繁，请 {self.retry_after} 秒后再试 (too many requests, retry later)',
                         {'retry_after': self.retry_after})
