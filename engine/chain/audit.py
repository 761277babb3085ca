"""The one writer of the audit history: append a hash-chained record, verify the chain, issue checkpoints,
erase personal data without breaking the chain."""
import hashlib
import hmac
import json
import logging
import os
from contextlib import closing
from dataclasses import dataclass, field

from peewee import JOIN

from models import AuditHead, AuditPersonal, AuditRecord, GENESIS_HASH, audit_guards, database

from engine.chain import scan as chain_scan
from engine.chain import workers as chain_workers
from engine.chain import checkpoints as checkpoints_
from engine import clock
from engine.door import statements

log = logging.getLogger('chuangzheng.audit')

DEV_KEY = 'chuangzheng-development-audit-key-do-not-use-in-production'
MIN_KEY_BYTES = 32
_warned = False


class AuditKeyError(RuntimeError):
    """The audit key cannot be used here (production needs a real key of its own)."""


def key_problem(key, production):
    """Why `key` (text or None) must not sign the chain, or None. In production: no development key, no key under
    32 bytes. Elsewhere a missing key falls back to the development key (with a loud warning)."""
    if not production:
        return None
    if not key:
        return 'CHUANGZHENG_AUDIT_KEY is not set'
    if key == DEV_KEY:
        return 'CHUANGZHENG_AUDIT_KEY is the public development key: anyone could recompute a forged chain'
    if len(key.encode('utf-8')) < MIN_KEY_BYTES:
        return f'CHUANGZHENG_AUDIT_KEY is shorter than {MIN_KEY_BYTES} bytes'
    return None


def is_production():
    return os.environ.get('CHUANGZHENG_ENV', 'development') == 'production'


def uses_development_key():
    return os.environ.get('CHUANGZHENG_AUDIT_KEY', '') in ('', DEV_KEY)


def audit_key():
    """The HMAC key: from the environment, never from the database. Refused in production when it is the public
    development key or too short; in development the development key is used with a loud warning."""
    global _warned
    key = os.environ.get('CHUANGZHENG_AUDIT_KEY')
    problem = key_problem(key, is_production())
    if problem:
        raise AuditKeyError(f'{problem}; set a secret random key of at least {MIN_KEY_BYTES} bytes, e.g. '
                            f'python3 -c "import secrets; print(secrets.token_hex(32))"')
    if not key or key == DEV_KEY:
        if not _warned:
            log.warning('THE AUDIT CHAIN IS SIGNED WITH THE PUBLIC DEVELOPMENT KEY: anyone can forge it. '
                        'Set CHUANGZHENG_AUDIT_KEY to a secret of at least %d bytes before real use.', MIN_KEY_BYTES)
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


def append(object_type, object_id, event, from_state, to_state, actor, role, reason=None, payload=None):
    """Write one audit record; must run inside the transaction that made the change."""
    key = audit_key()
    payload = json.loads(canonical(payload or {}))
    occurred_at = clock.now()
    actor_id = actor.id if actor is not None else None
    actor_name = actor.display_name if actor is not None else None
    head_seq, head_hash = statements.audit_head_for_update()
    seq = head_seq + 1
    digest = personal_digest(key, actor_name, reason)
    new_hash = record_hash(key, seq, head_hash, object_type, object_id, event, from_state, to_state,
                           actor_id, role, occurred_at, payload, digest)
    statements.append_audit(dict(seq=seq, object_type=object_type, object_id=object_id, event=event,
                                 from_state=from_state, to_state=to_state, actor_id=actor_id, actor_role=role,
                                 occurred_at=occurred_at, payload=payload, personal_digest=digest,
                                 prev_hash=head_hash, hash=new_hash), actor_name, reason)
    return seq


@dataclass
class VerifyResult:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list = field(default_factory=list)
    guard_problems: list = field(default_factory=list)     # the database's own guards (models.audit_guards)
    checkpoints: int = 0                                    # how many kept checkpoints were compared

    @property
    def first_bad_seq(self):
        return self.problems[0][0] if self.problems else None

    def fail(self, seq, text):
        self.ok = False
        self.problems.append((seq, text))


def _stream(first, batch=5000):
    """Raw rows (engine.chain.scan.COLUMNS) with seq >= `first`, in seq order: keyset batches, constant memory."""
    sql = f'{chain_scan.SELECT} WHERE r.seq > {database.param} ORDER BY r.seq LIMIT {batch}'
    last = first - 1
    while True:
        rows = database.execute_sql(sql, (last,)).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def erasures():
    """{user id: seq of their last erasure record}: whose personal parts may legitimately be empty."""
    return dict(database.execute_sql(chain_scan.ERASURES).fetchall())


def _segments(key, erased, stop_at_first, progress, workers):
    """The chain as checked stretches (engine.chain.scan.Segment) in seq order: one, checked here, for a
    short chain; several, checked by worker processes, for a long one."""
    lo, hi = database.execute_sql('SELECT MIN(seq), MAX(seq) FROM audit_record').fetchone()
    if lo is None:
        return
    workers = chain_workers.worker_count(workers)
    spec = chain_workers.connection_spec(database.obj)
    if workers > 1 and spec and hi - lo + 1 >= chain_workers.PARALLEL_FROM:
        with closing(chain_workers.parallel_segments(spec, key, erased, lo, hi, workers, stop_at_first,
                                                     progress)) as parts:
            yield from parts
    else:
        yield chain_scan.scan(_stream(lo), chain_scan.Checker(key, erased), lo, stop_at_first, progress)


def _link(segment, expected_seq, prev):
    """What verify says about a stretch's first record, given the record before it."""
    seq, prev_hash, _, content_problem = segment.first
    found = chain_scan.link_problem(seq, prev_hash, expected_seq, prev) or content_problem
    return tuple(found) if found else None


CATCH_UP_ROUNDS = 3


def _take(result, segment, chain_end, stop_at_first):
    """Add a checked stretch to the result and move chain_end past it; False when verification stops here."""
    if segment.first is None:
        return True
    found = _link(segment, *chain_end)
    if found:
        result.fail(*found)
        if stop_at_first:
            return False
    for problem in segment.problems:
        result.fail(*problem)
    result.checked += segment.checked
    if segment.head:
        result.head_seq, result.head_hash = segment.head
    if segment.problems and stop_at_first:
        return False
    chain_end[:] = [segment.last[0] + 1, segment.last[1]]
    return True


def verify(checkpoint=None, progress=None, stop_at_first=True, workers=None, checkpoints=(), guards=True):
    """Recompute the chain. Names the first record that was edited, deleted or inserted outside the
    application, and any personal part that looks erased without an erasure record. Each kept checkpoint
    ("seq:hash", or a signed line from signed_checkpoint) proves the records up to its seq: a record rewritten
    before it, or records cut off the end, are named. With `guards`, missing, disabled or altered database
    guards are reported too (result.guard_problems). Streams the records in constant memory; a long chain is
    checked in stretches on `workers` processes (default: one per core, or $CHUANGZHENG_VERIFY_WORKERS), with
    the same answer."""
    key = audit_key()
    result = VerifyResult()
    if guards:
        for problem in audit_guards.problems():
            result.ok = False
            result.guard_problems.append(problem)
    kept = [checkpoints_.parse(text, key) for text in ([checkpoint] if checkpoint else []) + list(checkpoints)]
    _verify_chain(key, result, progress, stop_at_first, workers)
    if not (stop_at_first and result.problems):      # a chain already broken: its end says nothing more
        for seq, h in sorted(kept):
            checkpoints_.check(seq, h, result)
    result.checkpoints = len(kept)
    return result


def _verify_chain(key, result, progress, stop_at_first, workers):
    erased = erasures()
    chain_end = [1, GENESIS_HASH]          # the seq expected next and the hash it must link to
    with closing(_segments(key, erased, stop_at_first, progress, workers)) as segments:
        for segment in segments:
            if not _take(result, segment, chain_end, stop_at_first):
                return
    # A live system keeps appending while a long chain is checked in stretches: check what came meanwhile,
    # so that the head below is compared with the chain's real end, not with where the stretches stopped.
    for _ in range(CATCH_UP_ROUNDS):
        head = AuditHead.get_or_none(AuditHead.id == 1)
        if head is None or head.seq <= result.head_seq:
            break
        newer = chain_scan.scan(_stream(result.head_seq + 1), chain_scan.Checker(key, erased),
                                result.head_seq + 1, stop_at_first, progress)
        if newer.first is None:
            break                          # the head names records that are not there: reported below
        if not _take(result, newer, chain_end, stop_at_first):
            return
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is None or (head.seq, head.hash) != (result.head_seq, result.head_hash):
        result.fail(result.head_seq + 1, f'chain head says record {head.seq if head else "?"} is the last, '
                                         f'but the last record is {result.head_seq} (records removed from the end)')


def parse_checkpoint(text):
    return checkpoints_.parse(text, audit_key())


def checkpoint():
    """The chain head "SEQ:HASH"."""
    return checkpoints_.current()


def signed_checkpoint():
    """The chain head as a signed line to keep outside the database (engine.chain.checkpoints)."""
    return checkpoints_.signed_line(audit_key())


def erase_personal_data(user_id):
    """Blank a person's name and free text from the history (the chain keeps their digests)."""
    seqs = AuditRecord.select(AuditRecord.seq).where(AuditRecord.actor_id == user_id)
    return (AuditPersonal.update(actor_name=None, reason=None, erased_at=clock.now())
            .where(AuditPersonal.seq.in_(seqs), AuditPersonal.erased_at.is_null()).execute())


def mark_integrity(records):
    """Set `integrity` on each record read with its personal part ('intact', 'erased' or 'tampered'): what a
    reader of one object's history must know before trusting a name or a reason shown there. Checks each
    record's own hash and personal part (not the links between records: that is verify's job)."""
    records = list(records)
    if not records:
        return records
    checker = chain_scan.Checker(audit_key(), erasures())
    for r in records:
        erased_at = getattr(r, 'erased_at', None)
        row = (r.seq, r.object_type, r.object_id, r.event, r.from_state, r.to_state, r.actor_id, r.actor_role,
               r.occurred_at, canonical(r.payload), r.personal_digest, r.prev_hash, r.hash,
               getattr(r, 'actor_name', None), getattr(r, 'reason', None), erased_at)
        r.integrity = 'tampered' if checker.content_problem(row) else ('erased' if erased_at else 'intact')
    return records


def history(object_type, object_id):
    """An object's records in order, joined with their personal part."""
    return (AuditRecord.select(AuditRecord, AuditPersonal.actor_name, AuditPersonal.reason)
            .join(AuditPersonal, on=(AuditPersonal.seq == AuditRecord.seq), join_type=JOIN.LEFT_OUTER)
            .where(AuditRecord.object_type == object_type, AuditRecord.object_id == object_id)
            .order_by(AuditRecord.seq).objects())
