"""Play an attacker with write access to the database, one attack at a time on a fresh small history, and print
what the database, `verify` and `restore` answer: the "tampering" table of docs/RELIABILITY.md.

    .venv/bin/python bench/tamper_table.py                       # SQLite (a temporary file)
    .venv/bin/python bench/tamper_table.py --postgres            # a throwaway PostgreSQL server
"""
import argparse
import os
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import engine  # noqa: E402
from engine import BackupError, audit, backup, erase_person, org, restore  # noqa: E402
from models import (AuditHead, AuditRecord, Branch, Campaign, Team, Unit, audit_guards, create_schema,  # noqa: E402
                    database, is_sqlite, open_database)


def small_history():
    """A unit, a campaign launched and advanced, a team enrolled and approved: about ten records."""
    unit = Unit.create(code='HY', name='货运处')
    branch = Branch.create(unit=unit, name='一分会')
    team = Team.create(branch=branch, name='装卸一班')
    staff = org.get_or_create_user('staff', '周干事', 'x')
    chair = org.get_or_create_user('chair', '李主席', 'x')
    leader = org.get_or_create_user('leader', '张班长', 'x')
    org.assign_role(staff, 'union_staff', unit=unit)
    org.assign_role(chair, 'branch_chair', branch=branch)
    org.assign_role(leader, 'team_leader', team=team)
    campaign = engine.create('campaign', staff, {'unit_id': unit.id, 'title': '创建学习型班组活动', 'period': '2025-2027'})
    campaign = engine.fire(campaign, 'launch', staff)
    part = engine.create('participation', leader, {'team_id': team.id, 'campaign_id': campaign.id})
    engine.fire(part, 'approve_enrolment', chair, reason='同意')
    return {'staff': staff, 'chair': chair, 'leader': leader, 'campaign': campaign}


def mark(n):
    return ', '.join(['?' if is_sqlite() else '%s'] * n)


def refused(sql):
    try:
        with database.atomic():
            database.execute_sql(sql)
    except Exception as err:                                 # noqa: BLE001 — the database's own words
        return 'refused: ' + str(err).strip().splitlines()[0][:60]
    return 'ACCEPTED'


def verdict(**options):
    result = audit.verify(**options)
    if result.ok:
        return f'intact, {result.checked} records'
    parts = [result.problems[0][1]] if result.problems else []
    if result.guard_problems:
        parts.append(f'{len(result.guard_problems)} guard problem(s): {result.guard_problems[0]}')
    return 'BROKEN — ' + '; '.join(parts)


def recompute(key, start, change):
    prev = AuditRecord.get(AuditRecord.seq == start - 1).hash if start > 1 else '0' * 64
    for row in AuditRecord.select().where(AuditRecord.seq >= start).order_by(AuditRecord.seq):
        to_state = change(row)
        h = audit.record_hash(key, row.seq, prev, row.object_type, row.object_id, row.event, row.from_state,
                              to_state, row.actor_id, row.actor_role, row.occurred_at, row.payload, row.personal_digest)
        AuditRecord.update(to_state=to_state, prev_hash=prev, hash=h).where(AuditRecord.seq == row.seq).execute()
        prev = h
    AuditHead.update(hash=prev).execute()


def cut_tail(keep):
    last = AuditRecord.get(AuditRecord.seq == keep)
    database.execute_sql(f'DELETE FROM audit_personal WHERE seq > {keep}')
    database.execute_sql(f'DELETE FROM audit_record WHERE seq > {keep}')
    AuditHead.update(seq=last.seq, hash=last.hash).execute()


# Each attack: (name, function(world) -> answer). Runs on a fresh history.
def attacks(url, folder):
    def edit_guarded(w):
        return refused("UPDATE audit_record SET to_state = 'approved' WHERE seq = 3")

    def delete_guarded(w):
        return refused('DELETE FROM audit_record WHERE seq = 3')

    def insert_guarded(w):
        last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
        return refused("INSERT INTO audit_record (seq, object_type, object_id, event, occurred_at, payload, "
                       f"personal_digest, prev_hash, hash) VALUES ({last.seq + 2}, 'campaign', 1, 'close', "
                       f"'2026-12-01 00:00:00', '{{}}', 'x', '{last.hash}', 'f')")

    def forged_erasure_guarded(w):
        return refused("UPDATE audit_personal SET actor_name = '王秀梅', reason = '材料齐全，同意', "
                       "erased_at = '2026-12-01 00:00:00' WHERE seq = 3")

    def head_rewind_guarded(w):
        return refused('UPDATE audit_head SET seq = seq - 2')

    def truncate_guarded(w):
        return refused('TRUNCATE audit_record, audit_personal, audit_head' if not is_sqlite()
                       else 'DELETE FROM audit_record')

    def edit(w):
        audit_guards.drop_guards()
        database.execute_sql("UPDATE audit_record SET to_state = 'approved' WHERE seq = 3")
        return verdict()

    def delete(w):
        audit_guards.drop_guards()
        database.execute_sql('DELETE FROM audit_personal WHERE seq = 3')
        database.execute_sql('DELETE FROM audit_record WHERE seq = 3')
        return verdict()

    def insert(w):
        audit_guards.drop_guards()
        last = AuditRecord.select().order_by(AuditRecord.seq.desc()).get()
        database.execute_sql(
            'INSERT INTO audit_record (seq, object_type, object_id, event, from_state, to_state, actor_id, '
            f'actor_role, occurred_at, payload, personal_digest, prev_hash, hash) VALUES ({mark(13)})',
            (last.seq + 1, 'campaign', 1, 'close', 'popularization', 'closed', 1, 'union_staff', last.occurred_at,
             '{}', last.personal_digest, last.hash, 'f' * 64))
        AuditHead.update(seq=last.seq + 1, hash='f' * 64).execute()
        return verdict()

    def wrong_key(w):
        audit_guards.drop_guards()
        recompute(b'a-guessed-key', 1, lambda r: 'approved' if r.seq == 3 else r.to_state)
        return verdict()

    def right_key_after_checkpoint(w):
        early = audit.signed_checkpoint()
        early_seq = int(early.split(':')[0])
        engine.fire(Campaign.get_by_id(w['campaign'].id), 'advance', w['staff'], reason='按会议决定', override=True)
        late = audit.signed_checkpoint()
        audit_guards.drop_guards()
        recompute(audit.audit_key(), early_seq + 1, lambda r: 'closed' if r.seq == early_seq + 1 else r.to_state)
        return (f'records only: {verdict(guards=False)}; with the earlier checkpoint: '
                f'{verdict(guards=False, checkpoints=[early])}; with both: {verdict(guards=False, checkpoints=[early, late])}')

    def forged_erasure(w):
        audit_guards.drop_guards()
        seq = AuditRecord.get(AuditRecord.actor_id == w['chair'].id).seq
        database.execute_sql("UPDATE audit_personal SET actor_name = '王秀梅', reason = '材料齐全，同意', "
                             f"erased_at = '2026-12-01 00:00:00' WHERE seq = {seq}")
        return verdict(guards=False)

    def real_erasure(w):
        erase_person(w['leader'], '本人申请 第3号')
        return verdict()

    def cut_tail_head_rewound(w):
        kept = audit.signed_checkpoint()
        count = AuditRecord.select().count()
        audit_guards.drop_guards()
        cut_tail(count - 2)
        return f'records only: {verdict(guards=False)}; with the kept checkpoint: {verdict(checkpoints=[kept])}'

    def dropped_triggers(w):
        audit_guards.drop_guards()
        return verdict()

    def altered_trigger(w):
        audit_guards.alter_one_guard()
        return verdict()

    def disabled_trigger(w):
        if is_sqlite():
            return '(SQLite triggers cannot be disabled, only dropped)'
        database.execute_sql('ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only')
        return verdict()

    def truncate_all(w):
        kept = audit.signed_checkpoint()
        audit_guards.drop_guards()
        if is_sqlite():
            for table in ('audit_personal', 'audit_record'):
                database.execute_sql(f'DELETE FROM {table}')
        else:
            database.execute_sql('TRUNCATE audit_record, audit_personal')
        AuditHead.update(seq=0, hash='0' * 64).execute()
        return f'records only: {verdict(guards=False)}; with the kept checkpoint: {verdict(checkpoints=[kept])}'

    def tampered_backup(w):
        audit_guards.drop_guards()
        database.execute_sql("UPDATE audit_record SET to_state = 'approved' WHERE seq = 3")
        target = os.path.join(folder, f'tampered-{os.getpid()}-{id(w)}.dump')
        backup(url, target)
        database.execute_sql("UPDATE audit_record SET to_state = (SELECT to_state FROM audit_record WHERE seq = 3) "
                             "WHERE seq = 3")
        return _restore(url, target, [])

    def cut_backup(w):
        kept = audit.signed_checkpoint()
        audit_guards.drop_guards()
        cut_tail(AuditRecord.select().count() - 2)
        target = os.path.join(folder, f'cut-{os.getpid()}-{id(w)}.dump')
        backup(url, target)
        return (f'without a checkpoint: {_restore(url, target, [])}; with the kept checkpoint: '
                f'{_restore(url, target, [kept])}')

    return [
        ('UPDATE a record (guards in place)', edit_guarded),
        ('DELETE a record (guards in place)', delete_guarded),
        ('INSERT a record not at the head (guards in place)', insert_guarded),
        ('forged erasure: name and reason replaced, erased_at set (guards in place)', forged_erasure_guarded),
        ('rewind the chain head (guards in place)', head_rewind_guarded),
        ('TRUNCATE the audit tables (guards in place; SQLite: DELETE of all rows)', truncate_guarded),
        ('edit a record (guards dropped)', edit),
        ('delete a record (guards dropped)', delete),
        ('insert a record at the end, head moved (guards dropped)', insert),
        ('recompute the whole chain with a wrong key', wrong_key),
        ('rewrite after a checkpoint, chain recomputed with the RIGHT key', right_key_after_checkpoint),
        ('forged erasure (guards dropped)', forged_erasure),
        ('a real erasure by erase-person (not an attack)', real_erasure),
        ('cut the tail, head rewound', cut_tail_head_rewound),
        ('drop the guards, nothing else', dropped_triggers),
        ('replace a guard by one that allows everything', altered_trigger),
        ('disable a guard', disabled_trigger),
        ('empty both audit tables and reset the head', truncate_all),
        ('restore --force a tampered backup', tampered_backup),
        ('restore a backup whose tail was cut, head rewound', cut_backup),
    ]


def _restore(url, target, kept):
    before = AuditRecord.select().count()
    try:
        restore(url, target, replace=True, checkpoints=kept)
    except BackupError as err:
        after = AuditRecord.select().count()
        return f'refused ({err.message.split("(")[0].strip()[:90]}); database untouched: {before == after}'
    return 'restored; ' + verdict()


def fresh(url):
    open_database(url)
    if not is_sqlite():
        database.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        database.execute_sql('CREATE SCHEMA public')
    else:
        database.close()
        path = url.split(':///', 1)[1]
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        open_database(url)
    create_schema()
    return small_history()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--postgres', action='store_true', help='run on a throwaway PostgreSQL server')
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix='chuangzheng-tamper-')
    if args.postgres:
        from bench.pgserver import throwaway_postgres
        with throwaway_postgres() as (url, _):
            table(url, folder, 'PostgreSQL')
    else:
        table(f'sqlite:///{folder}/tamper.db', folder, 'SQLite')


def table(url, folder, name):
    print(f'| attack | {name}: what the database, verify or restore answered |\n|---|---|')
    try:
        for title, attack in attacks(url, folder):
            world = fresh(url)
            try:
                answer = attack(world)
            except Exception:                                       # noqa: BLE001 — show it in the table
                answer = 'ERROR ' + traceback.format_exc().strip().splitlines()[-1]
            print(f'| {title} | {answer} |'.replace('\n', ' '), flush=True)
    finally:
        database.close()


if __name__ == '__main__':
    main()
