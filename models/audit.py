"""The append-only, hash-chained audit history. Only engine.chain.audit writes here."""
from peewee import AutoField, BigIntegerField, CharField, DateTimeField, IntegerField, TextField

from .db import BaseModel, JSONField


class AuditRecord(BaseModel):
    seq = BigIntegerField(primary_key=True)       # 1, 2, 3 … gap-free
    object_type = CharField(max_length=20)
    object_id = IntegerField()
    event = CharField(max_length=40)
    from_state = CharField(max_length=30, null=True)
    to_state = CharField(max_length=30, null=True)
    actor_id = IntegerField(null=True)
    actor_role = CharField(max_length=20, null=True)
    occurred_at = DateTimeField(index=True)        # UTC
    payload = JSONField(default=dict)               # scores, evidence references … (no personal data)
    personal_digest = CharField(max_length=64)      # HMAC of the AuditPersonal row
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        table_name = 'audit_record'
        # The global log filters on one column and pages newest first by seq: each filter column with seq, so a
        # page is an index walk, not a sort of every matching record (schema version 3).
        indexes = ((('object_type', 'object_id', 'seq'), False), (('object_type', 'seq'), False),
                   (('event', 'seq'), False), (('actor_id', 'seq'), False))


class AuditPersonal(BaseModel):
    """The personal part of an audit record (names, free text), kept apart so it can be erased on
    request; the chain covers only its digest."""
    seq = BigIntegerField(primary_key=True)
    actor_name = CharField(max_length=60, null=True)
    reason = TextField(null=True)
    erased_at = DateTimeField(null=True)

    class Meta:
        table_name = 'audit_personal'


class AuditHead(BaseModel):
    """One row: the chain's last sequence number and hash. Writers lock it, so the chain stays a single
    gap-free sequence under concurrent writers."""
    id = IntegerField(primary_key=True)
    seq = BigIntegerField()
    hash = CharField(max_length=64)

    class Meta:
        table_name = 'audit_head'


class SchemaInfo(BaseModel):
    id = AutoField()
    version = IntegerField()
    applied_at = TextField()

    class Meta:
        table_name = 'schema_info'
