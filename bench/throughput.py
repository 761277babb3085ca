"""Audited transitions per second through the engine, against the raw rate of the same database doing the
same writes (one state update + one audit insert per transaction) without it. SPEC §6: ratio ≥ 0.5.

    .venv/bin/python bench/throughput.py [--n 300] [--repeats 5] [--database sqlite|postgres] [--database-url URL]

`--database postgres` starts a throwaway PostgreSQL server with durable settings (bench/pgserver.py, needs root);
`--database-url` uses a database of yours (it is wiped). Prints medians of the repeats and the ratios measured in
the same run (never an absolute timing claim), checks that the engine really wrote and chained every audit
record it was timed on, and writes artifacts/throughput-<database>.json."""
import argparse
import contextlib
import datetime
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tests'))
sys.path.insert(0, os.path.dirname(__file__))

import engine  # noqa: E402
from models import AuditRecord, Participation, Team, audit_guards, create_schema, database, is_sqlite, open_database  # noqa: E402


def fresh_database(url):
    db = open_database(url)
    if not is_sqlite():
        db.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        db.execute_sql('CREATE SCHEMA public')
    create_schema()
    return db


def world_with_requests(n):
    from conftest import World
    from engine import assign_role, get_or_create_user
    world = World()
    world.launch()
    ids = []
    for i in range(n):
        team = Team.create(branch=world.b2, name=f'压测班{i}')
        leader = get_or_create_user(f'bench{i}', f'班长{i}', 'x')
        assign_role(leader, 'team_leader', team=team)
        ids.append(engine.create('participation', leader, {'team_id': team.id, 'campaign_id': world.campaign.id}).id)
    return world, ids


def engine_rate(world, ids):
    records = [Participation.get_by_id(i) for i in ids]
    before = AuditRecord.select().count()
    start = time.perf_counter()
    for record in records:
        engine.fire(record, 'approve_enrolment', world.chair2)
    rate = len(records) / (time.perf_counter() - start)
    # what was timed must be the real thing: every transition made and audited
    moved = Participation.select().where(Participation.id.in_(ids), Participation.state == 'in_progress').count()
    assert moved == len(ids) and AuditRecord.select().count() - before == len(ids), (moved, len(ids))
    return rate


@contextlib.contextmanager
def without_guards():
    """The baselines write audit rows the application never would (no chain, no head): without the audit guards
    (models.audit_guards), which the engine's own appends pay for."""
    audit_guards.drop_guards()
    try:
        yield
    finally:
        audit_guards.install_guards()


def raw_rate(ids):
    """The same two writes per transaction through the bare driver: update with version check, insert audit."""
    with without_guards():
        return _raw_rate(ids)


def _raw_rate(ids):
    conn = database.connection()
    placeholder = '?' if is_sqlite() else '%s'
    now = datetime.datetime.utcnow()
    seq = AuditRecord.select().count() + 1000000
    update = (f'UPDATE participation SET state = {placeholder}, version = version + 1 '
              f'WHERE id = {placeholder} AND version = {placeholder}')
    insert = (f'INSERT INTO audit_record (seq, object_type, object_id, event, from_state, to_state, actor_id, '
              f'actor_role, occurred_at, payload, personal_digest, prev_hash, hash) VALUES '
              f'({", ".join([placeholder] * 13)})')
    versions = {p.id: p.version for p in Participation.select().where(Participation.id.in_(ids))}
    start = time.perf_counter()
    for i, part_id in enumerate(ids):
        with database.atomic():
            cursor = conn.cursor()
            cursor.execute(update, ('in_progress', part_id, versions[part_id]))
            cursor.execute(insert, (seq + i, 'participation', part_id, 'raw', 'requested', 'in_progress', 1,
                                    'branch_chair', now, '{}', '0' * 64, '0' * 64, '0' * 64))
    return len(ids) / (time.perf_counter() - start)


def orm_rate(ids):
    """The same two writes per transaction through peewee (no permission, guard, machine or hash work)."""
    with without_guards():
        return _orm_rate(ids)


def _orm_rate(ids):
    now = datetime.datetime.utcnow()
    seq = AuditRecord.select().count() + 2000000
    versions = {p.id: p.version for p in Participation.select().where(Participation.id.in_(ids))}
    start = time.perf_counter()
    for i, part_id in enumerate(ids):
        with database.atomic():
            Participation.update(state='in_progress', version=Participation.version + 1).where(
                Participation.id == part_id, Participation.version == versions[part_id]).execute()
            AuditRecord.insert(seq=seq + i, object_type='participation', object_id=part_id, event='orm',
                               from_state='requested', to_state='in_progress', actor_id=1, actor_role='branch_chair',
                               occurred_at=now, payload={}, personal_digest='0' * 64, prev_hash='0' * 64,
                               hash='0' * 64).execute()
    return len(ids) / (time.perf_counter() - start)


@contextlib.contextmanager
def database_urls(args):
    """Yield a function giving a fresh database URL for each repeat."""
    if args.database_url:
        yield lambda: args.database_url
    elif args.database == 'postgres':
        from pgserver import throwaway_postgres
        with throwaway_postgres() as (url, _data):
            yield lambda: url
    else:
        yield lambda: f'sqlite:///{tempfile.mkdtemp()}/bench.db'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=300)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--database', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--database-url')
    args = parser.parse_args()
    rates = {'engine': [], 'orm': [], 'driver': []}
    with database_urls(args) as next_url:
        for repeat in range(args.repeats):
            fresh_database(next_url())
            world, ids = world_with_requests(args.n * 3)
            thirds = [ids[i * args.n:(i + 1) * args.n] for i in range(3)]
            runs = [('engine', lambda part: engine_rate(world, part)), ('orm', orm_rate), ('driver', raw_rate)]
            for k, (name, measure) in enumerate(runs[repeat % 3:] + runs[:repeat % 3]):   # rotate the order
                rates[name].append(measure(thirds[k]))
            print(f'repeat {repeat + 1}: ' + ', '.join(f'{k} {v[-1]:.0f}/s' for k, v in rates.items()),
                  file=sys.stderr)
            database.close()
    median = {k: statistics.median(v) for k, v in rates.items()}
    ratios = {k: statistics.median(e / b for e, b in zip(rates['engine'], rates[k])) for k in ('orm', 'driver')}
    kind = 'sqlite' if (args.database_url or args.database).startswith('sqlite') else 'postgresql'
    print(f'{kind}: engine {median["engine"]:.0f} audited transitions/s; the same writes without the engine: '
          f'peewee {median["orm"]:.0f} tx/s, bare driver {median["driver"]:.0f} tx/s (medians of {args.repeats}); '
          f'ratio to peewee {ratios["orm"]:.2f}, to the driver {ratios["driver"]:.2f} '
          f'(median of the per-repeat ratios; SPEC target ≥ 0.50)')
    os.makedirs('artifacts', exist_ok=True)
    with open(os.path.join('artifacts', f'throughput-{kind}.json'), 'w') as out:
        json.dump({'database': kind, 'n': args.n, 'repeats': args.repeats, 'rates': rates, 'medians': median,
                   'ratios': ratios, 'load_average': os.getloadavg()}, out, indent=2)


if __name__ == '__main__':
    main()
