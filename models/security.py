"""Signing in: attempts and the addresses people signed in from (login throttling, across worker processes, kept
only as long as it needs), and the server-side record of every signed-in browser."""
from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField

from .db import BaseModel
from .org import User, utcnow


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


class KnownAddress(BaseModel):
    """An address a username signed in from successfully, and when it last did: guesses at the username from
    elsewhere are slowed down, sign-ins from here are not (web/logins.py)."""
    id = AutoField()
    username = CharField(max_length=60)
    ip = CharField(max_length=64)
    last_success_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = 'login_known_address'
        indexes = ((('username', 'ip'), True), (('last_success_at',), False))


class UserSession(BaseModel):
    """One signed-in browser. Its cookie carries a random key that is stored here only as a SHA-256 hash;
    deleting the row ends the session at once (signing out, ending it on the account page, a new password).
    Where and with what it signed in (address, a short description of the browser) help the person recognise
    it; times are UTC."""
    id = AutoField()
    user = ForeignKeyField(User, backref='sessions', on_delete='CASCADE', index=False)
    key_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    ip = CharField(max_length=64)
    agent = CharField(max_length=80)

    class Meta:
        table_name = 'user_session'
        indexes = ((('user', 'last_seen_at'), False), (('last_seen_at',), False))
