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
