"""Load test: simulated users against the production server (gunicorn, 4 workers) on loopback, then the
database must agree with what every client was told (SPEC §6: 50 simultaneous users, no error, no lost update).

    .venv/bin/python bench/load.py --duration 60 --users 50 --database sqlite
    .venv/bin/python bench/load.py --duration 60 --users 50 --database postgres      # a throwaway server (root)
    .venv/bin/python bench/load.py --database postgres --database-url postgresql://…  # WIPES that database

A fresh database gets the demo seed plus extra branches, leaders and teams laid down through the engine
(bench/loadgen.py); everybody logs in, then works for --duration seconds (bench/load_people.py,
bench/load_api.py); afterwards bench/load_check.py compares decisions with audit records, states and versions,
and verifies the chain. Prints a table and writes artifacts/load-<database>.json. Exit code 1 on any 5xx,
transport error or lost data."""
import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import load_api, load_people  # noqa: E402
from bench.load_check import baseline, verify_run  # noqa: E402
from bench.load_http import Schedule  # noqa: E402
from bench.load_report import passed, render, summarize, timeline  # noqa: E402
from bench.loadgen import make_workload, minimal_unit  # noqa: E402
from bench.load_server import gunicorn, read_server_log, workers_cpu_seconds  # noqa: E402
from bench.pgserver import postmaster_pid, throwaway_postgres  # noqa: E402

PEOPLE = {('leader', False): load_people.UiLeader, ('leader', True): load_api.ApiLeader,
          ('reviewer', False): load_people.UiReviewer, ('reviewer', True): load_api.ApiReviewer,
          ('staff', False): load_people.UiStaff, ('staff', True): load_api.ApiStaff,
          ('auditor', False): load_people.UiAuditor}


def plan(users):
    """How many of each: about one user in six chairs a branch and one in six is its party secretary; two union
    staff, the auditor, and the rest team leaders (one in five of them, a quarter of the chairs and the second
    staff member use the API)."""
    if users < 5:
        raise SystemExit('--users: at least 5 (a leader, a chair, a secretary, union staff, the auditor)')
    branches = max(1, round(users * 0.16))
    staff = 2 if users >= 10 else 1
    return {'branches': branches, 'staff': staff, 'leaders': users - 2 * branches - staff - 1}


def cast(work, staff):
    """[(username, role kind, uses the API)] for every simulated person."""
    people = [(u, 'leader', i % 5 == 4) for i, u in enumerate(work.leaders)]
    people += [(u, 'reviewer', i % 4 == 3) for i, u in enumerate(work.chairs)]
    people += [(u, 'reviewer', False) for u in work.secretaries]
    people += [(u, 'staff', i == 1) for i, u in enumerate(['staff1', 'staff2'][:staff])]
    return people + [('auditor', 'auditor', False)]


def prepare(url, users, teams_per_leader, seed, log, demo_history=True):
    """A fresh schema, the demo (or only its unit), the extra work, API tokens for the API users; the baseline to
    compare with."""
    from engine import create_token
    from models import AuditRecord, Team, User, create_schema, database, open_database
    from cli import demo
    open_database(url)
    if not url.startswith('sqlite'):
        database.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        database.execute_sql('CREATE SCHEMA public')
    create_schema()
    started = time.monotonic()
    log(demo.seed() if demo_history else minimal_unit())
    shape = plan(users)
    work = make_workload(branches=shape['branches'], leaders=shape['leaders'], teams_per_leader=teams_per_leader,
                         seed=seed)
    people = cast(work, shape['staff'])
    tokens = {u: create_token(User.get(User.username == u), 'load test')[1] for u, _, api in people if api}
    if not url.startswith('sqlite'):
        database.execute_sql('ANALYZE')        # statistics, as a database in service has them after a bulk load
    base = baseline()
    meta = {'teams': Team.select().count(), 'audit_records_before': AuditRecord.select().count(),
            'openings': work.openings, 'seed_s': round(time.monotonic() - started, 1)}
    log(f"seeded {meta['teams']} teams ({len(work.participation_ids)} for the load: {work.openings}), "
        f"{meta['audit_records_before']} audit records in {meta['seed_s']} s")
    database.close()
    return people, tokens, work, base, meta


def drive(people, tokens, work, port, duration, think, seed, on_start=lambda: None):
    """Start everybody, let them log in, call `on_start`, then let them work for `duration` seconds. Returns
    (tallies, seconds of work, {how long the logins took, the pace of every 10 s})."""
    schedule = Schedule(len(people))
    threads = [PEOPLE[kind, api](username, port, schedule, seed * 1000 + i, think, token=tokens.get(username),
                                 participation_ids=work.participation_ids, branch_ids=work.branch_ids)
               for i, (username, kind, api) in enumerate(people)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    schedule.ready.wait(timeout=300)
    on_start()
    started = time.monotonic()
    schedule.deadline = started + duration
    for thread in threads:
        thread.join(timeout=max(1.0, started + duration + 180 - time.monotonic()))
    for thread in threads:
        if thread.is_alive():
            thread.tally.client_errors.append(f'{thread.name}: still running {duration + 180:g} s after the start')
    tallies = [t.tally for t in threads]
    elapsed = time.monotonic() - started
    return tallies, elapsed, {'login_phase_s': round(started - begun, 1),
                              'per_10_s': timeline(tallies, started, elapsed)}


@contextlib.contextmanager
def _database(kind, url, folder):
    """Yield (URL, a function giving the CPU seconds of the database server's processes, or None when the
    database is inside the workers or on a server we did not start)."""
    if kind == 'sqlite':
        yield f'sqlite:///{folder}/load.db', None
    elif url:
        yield url, None
    else:
        with throwaway_postgres() as (fresh, data):
            yield fresh, lambda: workers_cpu_seconds(postmaster_pid(data))


def _used_since(before, now):
    return sum(used - before.get(pid, 0.0) for pid, used in now.items())


@contextlib.contextmanager
def _environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_load(database='sqlite', database_url=None, users=50, duration=60.0, workers=4, think=0.3,
             teams_per_leader=6, seed=1, log=print, keep=False, demo_history=True):
    """The whole run; returns the summary (see load_report.summarize)."""
    from models import database as db
    folder = tempfile.mkdtemp(prefix='chuangzheng-load.')
    keys = {'CHUANGZHENG_AUDIT_KEY': secrets.token_hex(24), 'CHUANGZHENG_UPLOADS': os.path.join(folder, 'uploads')}
    try:
        with _database(database, database_url, folder) as (url, db_cpu), _environment(**keys):
            people, tokens, work, base, meta = prepare(url, users, teams_per_leader, seed, log, demo_history)
            load_before = os.getloadavg()
            with gunicorn(url, workers, folder, secrets.token_hex(24)) as (port, log_path, cpu):
                log(f'gunicorn with {workers} workers on 127.0.0.1:{port}; {len(people)} users log in, then work '
                    f'for {duration:g} s')
                db_cpu = db_cpu or dict
                at_start = {}
                tallies, elapsed, pace = drive(people, tokens, work, port, duration, think, seed,
                                               on_start=lambda: at_start.update(server=cpu(), db=db_cpu()))
                load_after = os.getloadavg()
                server_cpu = _used_since(at_start['server'], cpu())
                database_cpu = _used_since(at_start['db'], db_cpu())
            db.connect(reuse_if_open=True)
            try:
                check = verify_run(base, tallies)
            finally:
                db.close()
                getattr(db.obj, 'close_all', lambda: None)()
        meta.update(database=database, users=len(people), workers=workers, duration_s=duration, think_s=think,
                    **pace,
                    server_log=read_server_log(log_path), server_cpu_s=round(server_cpu, 1),
                    database_server_cpu_s=round(database_cpu, 1) if database == 'postgres' else None,
                    load_average={'before': round(load_before[0], 2), 'after (1 min)': round(load_after[0], 2)},
                    machine=f'{os.cpu_count()} cores, {platform.platform()}',
                    when=time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()))
        return summarize(tallies, elapsed, check, meta)
    finally:
        if keep:
            log(f'kept {folder} (database, uploads, gunicorn.log)')
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--duration', type=float, default=60, help='seconds of work after everybody logged in')
    parser.add_argument('--users', type=int, default=50)
    parser.add_argument('--database', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--database-url', help='PostgreSQL database to use (it is WIPED); default: a throwaway '
                                               'server with durable settings')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--think', type=float, default=0.3, help='mean pause between steps, seconds')
    parser.add_argument('--teams-per-leader', type=int, default=6)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--no-demo', action='store_true',
                        help="only the demo's unit, staff and campaign, not its history (faster to seed)")
    parser.add_argument('--keep', action='store_true', help='keep the SQLite database and the server log')
    parser.add_argument('--output', help='JSON summary (default artifacts/load-<database>.json)')
    args = parser.parse_args(argv)
    summary = run_load(args.database, args.database_url, args.users, args.duration, args.workers, args.think,
                       args.teams_per_leader, args.seed, keep=args.keep, demo_history=not args.no_demo)
    output = args.output or os.path.join(ROOT, 'artifacts', f'load-{args.database}.json')
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, 'w', encoding='utf-8') as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
    print(render(summary))
    print(f'written to {output}')
    return 0 if passed(summary) else 1


if __name__ == '__main__':
    sys.exit(main())
