"""Sign-in attempts, kept so login throttling holds across worker processes (and only as long as it needs)."""
from peewee import AutoField, BooleanField, CharField, DateTimeField

from .db import BaseModel
from .org import utcnow


class LoginAttempt(BaseModel):
    """One POST to /login: the username as typed (cleaned, at most 60 characters), the client's address, when
    (UTC) and whether it succeeded. `success` is NULL while the password is being checked, so concurrent
    attempts count each other."""
    id = AutoField()
    username = CharField(max_length=60)
    ip = CharField(max_length=64)
    at = DateTimeField(default=utcnow)
    success = BooleanField(null=True)

    class Meta:
        table_name = 'login_attempt'
        indexes = ((('username', 'at'), False), (('ip', 'at'), False), (('at',), False))
