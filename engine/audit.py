"""The one writer of the audit history: append a hash-chained record, verify the chain, issue checkpoints,
erase personal data without breaking the chain."""
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field

from peewee import JOIN

from models import AuditHead, AuditPersonal, AuditRecord, GENESIS_HASH, is_sqlite

from . import clock

log = logging.getLogger('chuangzheng.audit')

DEV_KEY = 'chuangzheng-development-audit-key-do-not-use-in-production'
_warned = False


def audit_key():
    """The HMAC key: from the environment, never from the database."""
    global _warned
    key = os.environ.get('CHUANGZHENG_AUDIT_KEY')
    if not key:
        if not _warned:
            log.warning('CHUANGZHENG_AUDIT_KEY is not set; using the development key')
            _warned = True
        key = DEV_KEY
    return key.encode('utf-8')


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(',', ':'), sort_keys=True)


def _mac(key, text):
    return hmac.new(key, text.encode('utf-8'), hashlib.sha256).hexdigest()


def timestamp(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def personal_digest(key, actor_name, reason):
    return _mac(key, canonical([actor_name, reason]))


def record_hash(key, seq, prev_hash, object_type, object_id, event, from_state, to_state, actor_id,
                actor_role, occurred_at, payload, digest):
    body = canonical([seq, prev_hash, object_type, object_id, event, from_state, to_state, actor_id,
                      actor_role, timestamp(occurred_at), payload, digest])
    return _mac(key, body)


def _lock_head():
    query = AuditHead.select().where(AuditHead.id == 1)
    if not is_sqlite():
        query = query.for_update()   # SQLite: the IMMEDIATE transaction already holds the write lock
    return query.get()


def append(object_type, object_id, event, from_state, to_state, actor, role, reason=None, payload=None):
    """Write one audit record; must run inside the transaction that made the change."""
    key = audit_key()
    payload = json.loads(canonical(payload or {}))
    occurred_at = clock.now()
    actor_id = actor.id if actor is not None else None
    actor_name = actor.display_name if actor is not None else None
    head = _lock_head()
    seq = head.seq + 1
    digest = personal_digest(key, actor_name, reason)
    new_hash = record_hash(key, seq, head.hash, object_type, object_id, event, from_state, to_state,
                           actor_id, role, occurred_at, payload, digest)
    AuditRecord.insert(seq=seq, object_type=object_type, object_id=object_id, event=event,
                       from_state=from_state, to_state=to_state, actor_id=actor_id, actor_role=role,
                       occurred_at=occurred_at, payload=payload, personal_digest=digest,
                       prev_hash=head.hash, hash=new_hash).execute()
    AuditPersonal.insert(seq=seq, actor_name=actor_name, reason=reason).execute()
    AuditHead.update(seq=seq, hash=new_hash).where(AuditHead.id == 1).execute()
    return seq


@dataclass
class VerifyResult:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list = field(default_factory=list)

    @property
    def first_bad_seq(self):
        return self.problems[0][0] if self.problems else None

    def fail(self, seq, text):
        self.ok = False
        self.problems.append((seq, text))


def _stream(batch=5000):
    """Yield (record columns…, personal columns…) ordered by seq, in constant memory."""
    last = 0
    while True:
        rows = list(AuditRecord
                    .select(AuditRecord.seq, AuditRecord.object_type, AuditRecord.object_id, AuditRecord.event,
                            AuditRecord.from_state, AuditRecord.to_state, AuditRecord.actor_id,
                            AuditRecord.actor_role, AuditRecord.occurred_at, AuditRecord.payload,
                            AuditRecord.personal_digest, AuditRecord.prev_hash, AuditRecord.hash,
                            AuditPersonal.actor_name, AuditPersonal.reason, AuditPersonal.erased_at)
                    .join(AuditPersonal, on=(AuditPersonal.seq == AuditRecord.seq), join_type=JOIN.LEFT_OUTER)
                    .where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch).tuples())
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify(checkpoint=None, progress=None, stop_at_first=True):
    """Recompute the chain. Names the first record that was edited, deleted or inserted outside the
    application; with a checkpoint ("seq:hash") also detects records cut off the end."""
    key = audit_key()
    result = VerifyResult()
    expected_seq, prev = 1, GENESIS_HASH
    for row in _stream():
        (seq, otype, oid, event, frm, to, actor_id, role, at, payload, digest, prev_hash, h,
         actor_name, reason, erased_at) = row
        if seq > expected_seq:
            result.fail(expected_seq, f'record {expected_seq}: missing (deleted); the next record is {seq}')
        elif seq < expected_seq:
            result.fail(seq, f'record {seq}: out of sequence (inserted)')
        elif prev_hash != prev:
            result.fail(seq, f'record {seq}: does not link to the previous record (deleted or inserted)')
        elif record_hash(key, seq, prev_hash, otype, oid, event, frm, to, actor_id, role, at, payload,
                         digest) != h:
            result.fail(seq, f'record {seq}: contents do not match its hash (edited)')
        elif erased_at is None and personal_digest(key, actor_name, reason) != digest:
            result.fail(seq, f'record {seq}: personal data (actor name or reason) was edited')
        if result.problems and stop_at_first:
            return result
        result.checked += 1
        expected_seq, prev = seq + 1, h
        result.head_seq, result.head_hash = seq, h
        if progress:
            progress(1)
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is None or (head.seq, head.hash) != (result.head_seq, result.head_hash):
        result.fail(result.head_seq + 1, f'chain head says record {head.seq if head else "?"} is the last, '
                                         f'but the last record is {result.head_seq} (records removed from the end)')
    if checkpoint:
        _check_checkpoint(checkpoint, result)
    return result


def parse_checkpoint(text):
    try:
        seq, h = text.strip().split(':', 1)
        seq = int(seq)
    except ValueError:
        raise ValueError(f'not a checkpoint: {text!r} (expected "SEQ:HASH")') from None
    if seq < 0 or len(h) != 64:
        raise ValueError(f'not a checkpoint: {text!r} (expected "SEQ:HASH")')
    return seq, h


def _check_checkpoint(text, result):
    seq, h = parse_checkpoint(text)
    if seq > result.head_seq:
        result.fail(result.head_seq + 1, f'checkpoint names record {seq} but the chain ends at '
                                         f'{result.head_seq}: records were cut off the end')
        return
    row = AuditRecord.get_or_none(AuditRecord.seq == seq) if seq else None
    actual = row.hash if row else GENESIS_HASH
    if actual != h:
        result.fail(seq, f'record {seq}: hash differs from the checkpoint')


def checkpoint():
    head = AuditHead.get(AuditHead.id == 1)
    return f'{head.seq}:{head.hash}'


def erase_personal_data(user_id):
    """Blank a person's name and free text from the history (the chain keeps their digests)."""
    seqs = AuditRecord.select(AuditRecord.seq).where(AuditRecord.actor_id == user_id)
    return (AuditPersonal.update(actor_name=None, reason=None, erased_at=clock.now())
            .where(AuditPersonal.seq.in_(seqs), AuditPersonal.erased_at.is_null()).execute())


def history(object_type, object_id):
    """An object's records in order, joined with their personal part."""
    return (AuditRecord.select(AuditRecord, AuditPersonal.actor_name, AuditPersonal.reason)
            .join(AuditPersonal, on=(AuditPersonal.seq == AuditRecord.seq), join_type=JOIN.LEFT_OUTER)
            .where(AuditRecord.object_type == object_type, AuditRecord.object_id == object_id)
            .order_by(AuditRecord.seq).objects())
