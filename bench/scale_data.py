"""The rows of a provincial-size database for bench/scale.py, cloned from the demo: every synthetic team copies a
demo team's participation, evidence, applications, scores, objections and innovation results, and the audit
chain copies the demo's history record by record — each edit of evidence repeated to reach the asked number of
records — hashed exactly as engine.chain.audit.append does (record_hash, personal_digest)."""
import datetime
import hashlib
import json
import sqlite3

import engine  # noqa: E402

GENESIS_HASH, personal_digest, record_hash = (engine.audit.GENESIS_HASH, engine.audit.personal_digest,
                                             engine.audit.record_hash)

TEAM_TABLES = ('participation', 'evidence', 'attachment', 'application', 'score', 'objection', 'innovation_result')
UNIT_TABLES = ('campaign', 'requirement', 'commendation_decision')
DEMO_TABLES = (('unit', 'branch', 'team', 'role_assignment', 'user', 'audit_record', 'audit_personal')
               + UNIT_TABLES + TEAM_TABLES)
PAYLOAD_IDS = {'team_id': 'team', 'campaign_id': 'campaign', 'unit_id': 'unit', 'decision_id': 'commendation_decision',
               'evidence_id': 'evidence', 'requirement_id': 'requirement', 'objection_id': 'objection'}


def read_demo(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    demo = {t: [dict(r) for r in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in DEMO_TABLES}
    demo['columns'] = {t: [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')] for t in DEMO_TABLES}
    conn.close()
    return demo


class Records:
    """Workflow rows (unit- and team-level tables) with new ids, keeping the id maps the audit copy needs."""

    def __init__(self, demo, org):
        self.demo, self.org = demo, org
        self.rows = {t: [] for t in UNIT_TABLES + TEAM_TABLES}
        self.unit_ids = []          # per unit: (table, demo id) -> new id

    def _add(self, table, row, **changes):
        new = dict(row, **changes, id=len(self.rows[table]) + 1)
        self.rows[table].append(tuple(new[c] for c in self.demo['columns'][table]))
        return new['id']

    def build(self):
        for u in range(self.org.plan.units):
            ids = {('unit', 1): u + 1}
            staff = self.org.unit_users[u]
            for c in self.demo['campaign']:
                ids[('campaign', c['id'])] = self._add('campaign', c, unit_id=u + 1,
                                                       title=f'{c["title"]}（{u + 1:03d}）')
            for r in self.demo['requirement']:
                ids[('requirement', r['id'])] = self._add('requirement', r,
                                                          campaign_id=ids[('campaign', r['campaign_id'])])
            for d in self.demo['commendation_decision']:
                ids[('commendation_decision', d['id'])] = self._add(
                    'commendation_decision', d, unit_id=u + 1, doc_number=f'P{u + 1:03d}-{d["doc_number"]}',
                    issued_by_id=(staff.get(d['issued_by_id']) or (None,))[0])
            self.unit_ids.append(ids)
        by_team = {t: [] for t in ('participation', 'application', 'innovation_result')}
        for t in by_team:
            for row in self.demo[t]:
                by_team[t].append(row)
        for copy in self.org.copies:
            self._team(copy, by_team)
        return self

    def _person(self, copy, demo_uid):
        return self.org.person(copy, demo_uid)[0]

    def _team(self, copy, by_team):
        unit = self.unit_ids[copy.unit]
        ids = copy.ids
        ids.update({('team', copy.template): copy.id, ('unit', 1): copy.unit + 1})
        ids.update({k: v for k, v in unit.items() if k[0] in ('campaign', 'requirement', 'commendation_decision')})
        for table in ('participation', 'application', 'innovation_result'):
            for row in by_team[table]:
                if row['team_id'] != copy.template:
                    continue
                changes = {'team_id': copy.id, 'campaign_id': unit[('campaign', row['campaign_id'])]}
                if table == 'application' and row['decision_id']:
                    changes['decision_id'] = unit[('commendation_decision', row['decision_id'])]
                ids[(table, row['id'])] = self._add(table, row, **changes)
        for e in self.demo['evidence']:
            if ('participation', e['participation_id']) in ids:
                ids[('evidence', e['id'])] = self._add(
                    'evidence', e, participation_id=ids[('participation', e['participation_id'])],
                    requirement_id=unit[('requirement', e['requirement_id'])],
                    updated_by_id=self._person(copy, e['updated_by_id']))
        for a in self.demo['attachment']:
            if ('evidence', a['evidence_id']) in ids:
                self._add('attachment', a, evidence_id=ids[('evidence', a['evidence_id'])],
                          uploaded_by_id=self._person(copy, a['uploaded_by_id']))
        for s in self.demo['score']:
            if ('application', s['application_id']) in ids:
                self._add('score', s, application_id=ids[('application', s['application_id'])],
                          judge_id=self._person(copy, s['judge_id']))
        for o in self.demo['objection']:
            if ('application', o['application_id']) in ids:
                ids[('objection', o['id'])] = self._add(
                    'objection', o, application_id=ids[('application', o['application_id'])],
                    lodged_by_id=self._person(copy, o['lodged_by_id']))


OBJECT_TABLE = {'participation': 'participation', 'application': 'application', 'innovation': 'innovation_result',
                'campaign': 'campaign'}


class AuditCopy:
    """Yields audit_record and audit_personal rows in seq order, chained with `key`."""

    def __init__(self, demo, org, records, target, key):
        self.demo, self.org, self.records, self.key = demo, org, records, key
        self.personal = {p['seq']: p for p in demo['audit_personal']}
        self.team_of = {(OBJECT_TABLE[t], row['id']): row.get('team_id') for t in OBJECT_TABLE
                        for row in demo[OBJECT_TABLE[t]]}
        self.units = [_UnitCopy(u, org.unit_users[u], records.unit_ids[u]) for u in range(org.plan.units)]
        edits = others = 0
        for r in demo['audit_record']:
            n = len(self._copies(r))
            if r['event'] == 'edit_evidence':
                edits += n
            else:
                others += n
        self.repeat = max(0.0, (target - others) / edits) if edits else 1.0
        self.digests = {}
        self.seq, self.hash = 0, GENESIS_HASH

    def _copies(self, r):
        table = OBJECT_TABLE[r['object_type']]
        if table == 'campaign':
            return self.units
        return self.org.by_template.get(self.team_of[(table, r['object_id'])], ())

    def rows(self):
        """(audit_record row, audit_personal row) pairs, in seq order."""
        carry = 0.0
        for r in self.demo['audit_record']:
            at = datetime.datetime.fromisoformat(r['occurred_at'])
            payload = json.loads(r['payload'])
            reason = (self.personal.get(r['seq']) or {}).get('reason')
            table = OBJECT_TABLE[r['object_type']]
            for n, copy in enumerate(self._copies(r)):
                times = 1
                if r['event'] == 'edit_evidence':
                    carry += self.repeat
                    times, carry = int(carry), carry - int(carry)
                for k in range(times):
                    yield self._record(r, copy, table, at + datetime.timedelta(microseconds=n * 1000, seconds=61 * k),
                                       payload, reason, k)

    def _record(self, r, copy, table, at, payload, reason, k):
        actor_id, actor_name = self.org.person(copy, r['actor_id'])
        payload = _remap(payload, copy.ids)
        if k and 'text_sha256' in payload:
            payload['text_sha256'] = hashlib.sha256(b'%d' % (self.seq + 1)).hexdigest()
        digest = self.digests.get((actor_name, reason))
        if digest is None:
            digest = self.digests[(actor_name, reason)] = personal_digest(self.key, actor_name, reason)
            if len(self.digests) > 100000:
                self.digests.clear()
        self.seq += 1
        object_id = copy.ids[(table, r['object_id'])]
        new_hash = record_hash(self.key, self.seq, self.hash, r['object_type'], object_id, r['event'],
                               r['from_state'], r['to_state'], actor_id, r['actor_role'], at, payload, digest)
        record = (self.seq, r['object_type'], object_id, r['event'], r['from_state'], r['to_state'], actor_id,
                  r['actor_role'], str(at), json.dumps(payload, ensure_ascii=False, sort_keys=True), digest,
                  self.hash, new_hash)
        self.hash = new_hash
        return record, (self.seq, actor_name, reason, None)


class _UnitCopy:
    """Stands in for a team copy when a record belongs to the unit (its campaign)."""

    def __init__(self, u, unit_users, ids):
        self.unit, self.users, self.unit_users, self.ids = u, {}, unit_users, ids


def _remap(value, ids):
    """The payload with demo ids replaced by the copy's (ids the copy lacks are kept)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in PAYLOAD_IDS and isinstance(v, int):
                out[k] = ids.get((PAYLOAD_IDS[k], v), v)
            else:
                out[k] = _remap(v, ids)
        return out
    if isinstance(value, list):
        return [_remap(v, ids) for v in value]
    return value
