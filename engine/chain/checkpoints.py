"""Checkpoints: the chain's head (seq and hash) written down outside the database, so that a later verify can
prove the records up to it were neither rewritten nor cut off.

A checkpoint proves the records up to its seq and nothing after it; records appended later are proven by the
next checkpoint. Even someone holding the audit key who rewrites records and recomputes every hash after them
cannot match a checkpoint taken before the rewrite, and cutting the tail off (with the head row rewound) leaves
a checkpoint pointing past the end. So auditors keep a series of them: `flask checkpoint --append FILE` adds a
signed line to a file kept outside the database (append-only storage, another machine), and
`flask verify --checkpoints FILE` compares every line.

A line reads `SEQ:HASH at=<China time> sig=<HMAC>`; the signature (the audit key over seq, hash and time) shows
the line was issued by this installation. A bare `SEQ:HASH` is accepted too."""
import datetime
import hashlib
import hmac
import os

from models import AuditHead, AuditRecord, GENESIS_HASH

from engine import clock

FORMAT_HINT = 'expected "SEQ:HASH" or a line written by `flask checkpoint`'


def _signature(key, core, at):
    return hmac.new(key, f'checkpoint|{core}|{at}'.encode('utf-8'), hashlib.sha256).hexdigest()


def current():
    """The head as "SEQ:HASH"."""
    head = AuditHead.get(AuditHead.id == 1)
    return f'{head.seq}:{head.hash}'


def signed_line(key):
    """The head as a signed checkpoint line, stamped with the China time it was taken."""
    at = clock.now().replace(tzinfo=datetime.timezone.utc).astimezone(clock.CHINA).isoformat(timespec='seconds')
    core = current()
    return f'{core} at={at} sig={_signature(key, core, at)}'


def parse(text, key=None):
    """(seq, hash) of a checkpoint line; ValueError saying why when it is not one, or when its signature was not
    made with `key`."""
    parts = (text or '').split()
    try:
        seq_text, h = parts[0].split(':', 1)
        seq = int(seq_text)
    except (IndexError, ValueError):
        raise ValueError(f'not a checkpoint: {text!r} ({FORMAT_HINT})') from None
    if seq < 0 or len(h) != 64 or any(c not in '0123456789abcdef' for c in h):
        raise ValueError(f'not a checkpoint: {text!r} ({FORMAT_HINT})')
    if len(parts) > 1:
        fields = dict(part.split('=', 1) for part in parts[1:] if '=' in part)
        if len(parts) != 3 or set(fields) != {'at', 'sig'}:
            raise ValueError(f'not a checkpoint: {text!r} ({FORMAT_HINT})')
        if key is not None and not hmac.compare_digest(fields['sig'], _signature(key, parts[0], fields['at'])):
            raise ValueError(f'checkpoint {parts[0][:20]}…: its signature was not made with this audit key')
    return seq, h


def read_file(path, key=None):
    """Every checkpoint in a file (one per line; blank lines and # comments skipped) as "line" texts, checked."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f'cannot read the checkpoint file {path}: {err}') from None
    kept = []
    for number, line in enumerate(lines, 1):
        if line.strip() and not line.lstrip().startswith('#'):
            try:
                parse(line, key)
            except ValueError as err:
                raise ValueError(f'{path}, line {number}: {err}') from None
            kept.append(line.strip())
    return kept


def append_to(path, key):
    """Append a signed line for the current head to `path` (created if missing) and flush it to disk."""
    line = signed_line(key)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, 'a', encoding='utf-8') as f:
        f.write(line + '\n')
        f.flush()
        os.fsync(f.fileno())
    return line


def check(seq, h, result):
    """Compare one checkpoint with the verified chain in `result` (an engine.chain.audit.VerifyResult)."""
    if seq > result.head_seq:
        result.fail(result.head_seq + 1, f'checkpoint names record {seq} but the chain ends at '
                                         f'{result.head_seq}: records were cut off the end')
        return
    row = AuditRecord.get_or_none(AuditRecord.seq == seq) if seq else None
    actual = row.hash if row else GENESIS_HASH
    if actual != h:
        result.fail(seq, f'record {seq}: hash differs from the checkpoint (the chain up to it was rewritten)')
