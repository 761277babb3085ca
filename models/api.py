"""Personal API tokens: only a SHA-256 hash of the secret is stored, with a short prefix to recognise it by."""
from peewee import AutoField, BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField

from .db import BaseModel
from .org import User, utcnow


class ApiToken(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref='api_tokens', on_delete='CASCADE')
    name = CharField(max_length=60)
    token_hash = CharField(max_length=64, unique=True)    # sha256 hex of the secret; the secret is never stored
    prefix = CharField(max_length=16)                      # the first characters of the secret, for display
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    # Request throttling: a fixed window (its start, in epoch seconds) and the requests counted in it.
    rate_window = BigIntegerField(default=0)
    rate_count = IntegerField(default=0)

    class Meta:
        table_name = 'api_token'

    @property
    def active(self):
        return self.revoked_at is None
