"""SPEC §6 scale bars on a provincial-size database: 100,000 teams and 10 million audit records by default.

    .venv/bin/python bench/scale.py [--teams 100000] [--records 10000000] [--repeats 15] [--verify-runs 3]
                                    [--database-url postgresql://…] [--postgres] [--rebuild]

Builds the database fast with bulk inserts (bench/scale_build.py; the SQLite file is cached under
$TMPDIR/chuangzheng-scale and reused), then measures server time — medians over repeats — of the pages and queries
the bars name, and verify() over the whole chain (wall time and peak memory, in a subprocess). Prints a table and
writes artifacts/scale-<db>.json. `--postgres` starts a durable throwaway server (bench/pgserver.py) and loads
the same rows into it; `--database-url` loads them into that (empty) database, or measures what an earlier
run loaded there."""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

# The chain is hashed with this key when the database is built and verified with it afterwards.
os.environ.setdefault('CHUANGZHENG_AUDIT_KEY', 'chuangzheng-scale-benchmark-audit-key-2026')

import engine  # noqa: E402

audit_key = engine.audit.audit_key
from scale_build import build_postgres, build_sqlite, cache_folder  # noqa: E402
from scale_org import Plan  # noqa: E402


def sqlite_file(args):
    """The cached SQLite build for these sizes (built when missing or with --rebuild)."""
    folder = cache_folder()
    path = os.path.join(folder, f'scale-t{args.teams}-r{args.records}.db')
    info_path = path + '.json'
    if args.rebuild or not os.path.exists(info_path):
        summary = build_sqlite(path, Plan(args.teams), args.records, audit_key(), folder)
        with open(info_path, 'w') as f:
            json.dump(summary, f)
    with open(info_path) as f:
        return path, json.load(f)


def up_to_date(url):
    """Bring a cached or loaded database to the current schema (a build of an earlier release gains its
    indexes here, as `flask upgrade-db` would)."""
    from models import database, open_database
    from models.migrations import upgrade
    open_database(url)
    applied = upgrade()
    database.close()
    if applied:
        print(f'upgraded the schema: {applied}')


def loaded(url):
    """Whether the PostgreSQL database at `url` already holds a chain (loaded by an earlier run)."""
    from models import AuditRecord, database, open_database, schema_exists
    open_database(url)
    try:
        return schema_exists() and AuditRecord.select().exists()
    finally:
        database.close()


def run(args, url, build, name):
    from scale_measure import measure_all, print_table
    up_to_date(url)
    results = measure_all(url, args.repeats, args.verify_runs)
    report = {'database': name, 'sizes': {'teams': args.teams, 'records': args.records}, 'build': build,
              'machine': machine(), 'results': results}
    print_table(report)
    os.makedirs(os.path.join(ROOT, 'artifacts'), exist_ok=True)
    sizes = '' if (args.teams, args.records) == (100000, 10000000) else f'-t{args.teams}-r{args.records}'
    out = os.path.join(ROOT, 'artifacts', f'scale-{name}{sizes}.json')
    with open(out, 'w') as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print(f'written {out}')


def machine():
    return {'cpus': os.cpu_count(), 'load_average': [round(x, 2) for x in os.getloadavg()],
            'python': platform.python_version(), 'platform': platform.platform(),
            'at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--teams', type=int, default=100000)
    parser.add_argument('--records', type=int, default=10000000)
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--verify-runs', type=int, default=3, help='verify() over the whole chain, median of N')
    parser.add_argument('--database-url', help='an empty PostgreSQL database to load and measure')
    parser.add_argument('--postgres', action='store_true', help='start a throwaway PostgreSQL server for the run')
    parser.add_argument('--rebuild', action='store_true', help='rebuild the cached SQLite file')
    parser.add_argument('--build-only', action='store_true')
    args = parser.parse_args()
    path, build = sqlite_file(args)
    if args.build_only:
        return
    if args.database_url:
        if not loaded(args.database_url):
            build = {**build, 'postgres': build_postgres(args.database_url, path)}
        run(args, args.database_url, build, 'postgres')
    elif args.postgres:
        from pgserver import throwaway_postgres
        with throwaway_postgres() as (url, _):
            build = {**build, 'postgres': build_postgres(url, path)}
            run(args, url, build, 'postgres')
    else:
        run(args, f'sqlite:///{path}', build, 'sqlite')


if __name__ == '__main__':
    main()
