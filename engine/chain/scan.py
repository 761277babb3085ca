"""Checking a stretch of the audit chain fast, from raw database rows: the per-record rules of engine.chain.audit.verify
(sequence, link, record hash, personal digest) with the hash body built without peewee row objects and the HMAC
key prepared once. Imports no models, so range workers (engine.chain.workers) start quickly.

A stretch is checked as if its first record linked correctly; the caller decides that link (see Segment)."""
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from json.encoder import c_encode_basestring, c_make_encoder

# The columns engine.chain.audit.verify reads, in this order (audit_record, then its audit_personal row).
COLUMNS = ('r.seq, r.object_type, r.object_id, r.event, r.from_state, r.to_state, r.actor_id, r.actor_role, '
           'r.occurred_at, r.payload, r.personal_digest, r.prev_hash, r.hash, p.actor_name, p.reason, p.erased_at')
SELECT = f'SELECT {COLUMNS} FROM audit_record r LEFT OUTER JOIN audit_personal p ON p.seq = r.seq'

_canonical = json.JSONEncoder(ensure_ascii=False, separators=(',', ':'), sort_keys=True).encode  # = audit.canonical
if c_make_encoder and c_encode_basestring:
    # The C encoder json.dumps itself builds for these settings, made once (no per-call JSONEncoder).
    _encoder = c_make_encoder(None, None, c_encode_basestring, None, ':', ',', True, False, True)

    def _encode(value):
        return ''.join(_encoder(value, 0))
else:
    _encode = _canonical
_scan = json.JSONDecoder().scan_once
_SQLITE_TIME = re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?')
CACHE_LIMIT = 65536       # personal parts (name, reason) remembered: bounded, so memory stays constant


@dataclass
class Segment:
    """What scanning one stretch found. `first` is (seq, prev_hash, hash, content problem or None) of its first
    record; `problems` are those after it, as (seq, text); `checked`/`head` count and end the records passed
    before a stop (all of them when there was none)."""
    first: tuple = None
    problems: list = field(default_factory=list)
    checked: int = 0
    head: tuple = None
    last: tuple = None

    def as_dict(self):
        return {'first': self.first, 'problems': self.problems, 'checked': self.checked, 'head': self.head,
                'last': self.last}

    @classmethod
    def from_dict(cls, data):
        return cls(tuple(data['first']) if data['first'] else None, [tuple(p) for p in data['problems']],
                   data['checked'], tuple(data['head']) if data['head'] else None,
                   tuple(data['last']) if data['last'] else None)


# The query for engine.chain.audit.erasures(): each erased person (user id) and the seq of their last erasure record.
ERASURES = ("SELECT object_id, MAX(seq) FROM audit_record WHERE object_type = 'user' "
            "AND event = 'erase_personal_data' GROUP BY object_id")


class Checker:
    """Recomputes record hashes and personal digests exactly as engine.chain.audit.record_hash/personal_digest.

    `erasures` ({user id: seq of their last erasure record}) tells which personal parts may be erased: those of
    the person's records before that erasure record. The erasure records are themselves in the chain, so a forged
    one breaks verification where it stands."""

    def __init__(self, key, erasures=None):
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._digests = {}
        self._erasures = erasures or {}

    def _hmac(self, text):
        mac = self._mac.copy()
        mac.update(text.encode('utf-8'))
        return mac.hexdigest()

    def personal_digest(self, actor_name, reason):
        key = (actor_name, reason)
        digest = self._digests.get(key)
        if digest is None:
            if len(self._digests) >= CACHE_LIMIT:
                self._digests.clear()
            if not (actor_name is None or type(actor_name) is str) or not (reason is None or type(reason) is str):
                actor_name, reason = _converted_personal(actor_name, reason)
            digest = self._digests[key] = self._hmac(_encode([actor_name, reason]))
        return digest

    def record_hash(self, seq, prev_hash, otype, oid, event, frm, to, actor_id, role, at, payload, digest):
        values = [seq, prev_hash, otype, oid, event, frm, to, actor_id, role]
        if not (type(seq) is int and type(oid) is int and type(actor_id) in _INT_OR_NONE and type(prev_hash) is str
                and type(otype) is str and type(event) is str and type(frm) in _STR_OR_NONE
                and type(to) in _STR_OR_NONE and type(role) in _STR_OR_NONE):
            values = [_converted(name, v) for name, v in zip(_HASHED, values)]   # as peewee would read them
        if type(digest) is not str:
            digest = _converted('personal_digest', digest)
        return self._hmac(_encode([*values, _timestamp(at), _payload(payload), digest]))

    def problem(self, row, expected_seq, prev):
        """The verdict of engine.chain.audit.verify on one row, given the expected seq and previous hash."""
        return link_problem(row[0], row[11], expected_seq, prev) or self.content_problem(row)

    def content_problem(self, row):
        (seq, otype, oid, event, frm, to, actor_id, role, at, payload, digest, prev_hash, h,
         actor_name, reason, erased_at) = row
        if self.record_hash(seq, prev_hash, otype, oid, event, frm, to, actor_id, role, at, payload, digest) != h:
            return seq, f'record {seq}: contents do not match its hash (edited)'
        if erased_at is None:
            if self.personal_digest(actor_name, reason) != digest:
                return seq, f'record {seq}: personal data (actor name or reason) was edited'
        elif actor_name is not None or reason is not None:
            return seq, f'record {seq}: personal data marked erased but not empty (forged erasure)'
        elif not seq < self._erasures.get(actor_id, 0):
            return seq, f'record {seq}: personal data marked erased without an erasure record for its actor (forged erasure)'
        return None


def link_problem(seq, prev_hash, expected_seq, prev):
    """(seq, text) when a record is not where the chain expects it: missing, inserted, or not linking."""
    if seq > expected_seq:
        return expected_seq, f'record {expected_seq}: missing (deleted); the next record is {seq}'
    if seq < expected_seq:
        return seq, f'record {seq}: out of sequence (inserted)'
    if prev_hash != prev:
        return seq, f'record {seq}: does not link to the previous record (deleted or inserted)'
    return None


_HASHED = ('seq', 'prev_hash', 'object_type', 'object_id', 'event', 'from_state', 'to_state', 'actor_id',
           'actor_role')


_INT_OR_NONE = frozenset({int, type(None)})
_STR_OR_NONE = frozenset({str, type(None)})


def _payload(text):
    """json.loads(text) of a stored payload (JSONField), through the decoder's scanner when the text is one
    JSON value with nothing around it (what json.loads checks too), else through json.loads itself."""
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            end = -1
        if end == len(text):
            return value
        return json.loads(text)
    return _converted('payload', text)


def _timestamp(at):
    """audit.timestamp() of the value peewee would have made of the stored time."""
    if isinstance(at, str) and _SQLITE_TIME.fullmatch(at):
        return f'{at[:10]}T{at[11:19]}.{at[20:26] if len(at) == 26 else "000000"}Z'
    if not isinstance(at, str) and getattr(at, 'tzinfo', 1) is None and at.year >= 1000:
        iso = at.isoformat()
        return iso + 'Z' if len(iso) == 26 else iso + '.000000Z'
    return _converted('occurred_at', at).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _converted(name, value):
    """An unusual stored value (a wrong type, an odd time format) converted as peewee's field would convert it."""
    from models import AuditRecord
    return getattr(AuditRecord, name).python_value(value)


def _converted_personal(actor_name, reason):
    from models import AuditPersonal
    return AuditPersonal.actor_name.python_value(actor_name), AuditPersonal.reason.python_value(reason)


def scan(rows, checker, expected_seq, stop_at_first=True, progress=None, every=5000):
    """Check consecutive rows (ordered by seq) as engine.chain.audit.verify does, the first one only for its contents."""
    segment = Segment()
    prev = None
    passed = 0
    for row in rows:
        seq, h = row[0], row[12]
        if segment.first is None:
            segment.first = (seq, row[11], h, checker.content_problem(row))
            if segment.first[3] and stop_at_first:
                break                  # the whole answer ends at this record, however it links
        else:
            found = checker.problem(row, expected_seq, prev)
            if found:
                segment.problems.append(found)
                if stop_at_first:
                    break
        segment.checked += 1
        segment.head = (seq, h)
        expected_seq, prev = seq + 1, h
        passed += 1
        if progress and passed == every:
            progress(passed)
            passed = 0
    if progress and passed:
        progress(passed)
    segment.last = segment.head
    return segment
