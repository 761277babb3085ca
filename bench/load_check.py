"""After the load: compare what the clients were told with what the database holds.

- per event, the decisions the server accepted (as the clients counted them) equal the audit records
  written during the run — no lost and no phantom decisions;
- where a client knows the object it decided on, that object has at least as many such records;
- every workflow object's state is the to_state of its last audit record, and each touched object's version
  moved by exactly the number of its new audit records (no lost update);
- each evidence text a client was told was saved is the text stored;
- the hash chain verifies."""
import hashlib
from collections import Counter

from peewee import fn

from engine import audit
from engine import KINDS
from models import AuditHead, AuditRecord, Evidence


def baseline():
    """Before the run: the chain head and every workflow object's version."""
    versions = {}
    for object_type, model in ((name, kind.model) for name, kind in KINDS.items()):
        for object_id, version in model.select(model.id, model.version).tuples():
            versions[(object_type, object_id)] = version
    return {'seq': AuditHead.get_by_id(1).seq, 'versions': versions}


def merge(tallies):
    accepted, attributed, texts = Counter(), Counter(), {}
    for tally in tallies:
        accepted.update(tally.accepted)
        attributed.update(tally.attributed)
        texts.update(tally.texts)
    return accepted, attributed, texts


def verify_run(base, tallies):
    accepted, attributed, texts = merge(tallies)
    new = list(AuditRecord.select(AuditRecord.object_type, AuditRecord.object_id, AuditRecord.event)
               .where(AuditRecord.seq > base['seq']).tuples())
    recorded = Counter(event for _, _, event in new)
    per_object = Counter(new)
    problems, details = [], []
    for event in sorted(set(accepted) | set(recorded)):
        if accepted[event] != recorded[event]:
            problems.append(f'{event}: clients were told {accepted[event]} accepted, the audit has {recorded[event]}')
            details += _unclaimed(base, event, attributed)
    for key, n in sorted(attributed.items()):
        if per_object[key] < n:
            problems.append(f'{key[0]} #{key[1]} {key[2]}: accepted {n}×, audited {per_object[key]}×')
    problems += _states_and_versions(base, Counter((t, i) for t, i, _ in new))
    problems += _texts(texts)
    chain = audit.verify()
    if not chain.ok:
        problems.append(f'audit chain: {chain.problems[:3]}')
    return {'decisions_accepted': dict(sorted(accepted.items())), 'audit_records': dict(sorted(recorded.items())),
            'audit_records_total': len(new), 'objects_touched': len({(t, i) for t, i, _ in new}),
            'evidence_texts_checked': len(texts), 'chain_ok': chain.ok, 'chain_checked': chain.checked,
            'problems': problems, 'problem_details': details, 'data_lost': len(problems)}


def _unclaimed(base, event, attributed):
    """The audit records of `event` written during the run on objects no client claimed that many times."""
    from models import User
    seen, lines = Counter(), []
    for seq, object_type, object_id, actor_id in (AuditRecord.select(AuditRecord.seq, AuditRecord.object_type,
                                                                     AuditRecord.object_id, AuditRecord.actor_id)
                                                  .where(AuditRecord.seq > base['seq'], AuditRecord.event == event)
                                                  .order_by(AuditRecord.seq).tuples()):
        seen[(object_type, object_id)] += 1
        if seen[(object_type, object_id)] > attributed[(object_type, object_id, event)]:
            actor = User.get_or_none(User.id == actor_id)
            who = actor.username if actor else actor_id
            lines.append(f'{event} unclaimed by any client: seq {seq} {object_type} #{object_id} by {who}')
    return lines[:10]


def _states_and_versions(base, touched):
    """Every object's state is where its last audit record left it; touched objects moved one version per
    record."""
    problems = []
    for object_type, model in ((name, kind.model) for name, kind in KINDS.items()):
        last = (AuditRecord.select(AuditRecord.object_id, fn.MAX(AuditRecord.seq).alias('seq'))
                .where(AuditRecord.object_type == object_type).group_by(AuditRecord.object_id).alias('last'))
        ends = dict(AuditRecord.select(AuditRecord.object_id, AuditRecord.to_state)
                    .join(last, on=(AuditRecord.seq == last.c.seq)).tuples())
        for object_id, state, version in model.select(model.id, model.state, model.version).tuples():
            if ends.get(object_id) != state:
                problems.append(f'{object_type} #{object_id}: state {state}, last audit record says '
                                f'{ends.get(object_id)}')
            moved = version - base['versions'].get((object_type, object_id), 0)
            if (object_type, object_id) in base['versions'] and moved != touched[(object_type, object_id)]:
                problems.append(f'{object_type} #{object_id}: version moved by {moved}, '
                                f'{touched[(object_type, object_id)]} audit records')
    return problems


def _texts(texts):
    problems = []
    stored = {(e.participation_id, e.requirement_id): e.text for e in Evidence.select(
        Evidence.participation, Evidence.requirement, Evidence.text)}
    for key, text in sorted(texts.items()):
        if stored.get(key) != text:
            problems.append(f'evidence of participation #{key[0]} requirement #{key[1]}: the last text saved '
                            f'({_where_audited(key, text)}) is not the one stored '
                            f'({_where_audited(key, stored.get(key))})')
    return problems


def _where_audited(key, text):
    """Which edit_evidence audit record of that item carries this text's hash."""
    digest = hashlib.sha256((text or '').encode('utf-8')).hexdigest()
    for seq, payload in (AuditRecord.select(AuditRecord.seq, AuditRecord.payload)
                         .where(AuditRecord.object_type == 'participation', AuditRecord.object_id == key[0],
                                AuditRecord.event == 'edit_evidence').order_by(AuditRecord.seq.desc()).tuples()):
        if payload.get('requirement_id') == key[1] and payload.get('text_sha256') == digest:
            return f'sha256 {digest[:8]}, audit seq {seq}'
    return f'sha256 {digest[:8]}, not audited'

