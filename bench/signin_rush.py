"""Morning rush (SPEC §6): 50 people sign in within one second on the production server (gunicorn with 4 workers,
as `make serve` runs it); every one of them must be in within 2 s.

    .venv/bin/python bench/signin_rush.py                        # SQLite, the 50 demo people, 3 rushes
    .venv/bin/python bench/signin_rush.py --database postgres    # on a throwaway PostgreSQL server (root)
    .venv/bin/python bench/signin_rush.py --old-hashes           # the first rush meets the earlier release's hashes

The database is the demo (web/demo.py: 39 team leaders, 4 chairs, 4 party secretaries, 2 union staff and the
auditor — 50 people). Before a rush everybody opens the login page (cookie and CSRF token); then each presses
"sign in" at a moment spread evenly over one second (in random order) and is "in" when the page the sign-in
leads to (their home page) has arrived: the time measured is from pressing to that page, the POST alone is also
kept. With --old-hashes every password hash is first replaced by one with the parameters of the release before
(argon2-cffi's default: 64 MiB, t=3, p=4), so the first rush is the first morning after the upgrade, when every
sign-in also rehashes; the later rushes use the hashes written then.

Prints a table and writes artifacts/signin-rush-<database>.json. Exit code 1 when a rush on current hashes had an
error or someone took longer than 2 s."""
import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.load import _database, _environment, _used_since  # noqa: E402
from bench.load_http import Http, Schedule, Tally, csrf_token  # noqa: E402
from bench.load_report import percentile  # noqa: E402
from bench.load_server import gunicorn, read_server_log  # noqa: E402

TARGET_S = 2.0
OLD_PARAMETERS = {'time_cost': 3, 'memory_cost': 65536, 'parallelism': 4}     # argon2-cffi's default


def prepare(url, old_hashes, log):
    """The demo on a fresh schema; returns the usernames of everybody who can sign in."""
    from argon2 import PasswordHasher
    from models import User, create_schema, database, open_database
    from web import demo
    open_database(url)
    if not url.startswith('sqlite'):
        database.execute_sql('DROP SCHEMA IF EXISTS public CASCADE')
        database.execute_sql('CREATE SCHEMA public')
    create_schema()
    log(demo.seed())
    people = [u.username for u in User.select().where(User.password_hash.is_null(False),
                                                      User.is_system == False).order_by(User.id)]  # noqa: E712
    if old_hashes:
        hasher = PasswordHasher(**OLD_PARAMETERS)
        for username in people:         # each its own salt, as in a real database
            User.update(password_hash=hasher.hash(demo.PASSWORD)).where(User.username == username).execute()
    database.close()
    return people


class Person(threading.Thread):
    """Opens the login page, waits for the rush, presses "sign in" at its moment and follows to the home page."""

    def __init__(self, username, port, schedule, start, offset):
        super().__init__(name=username, daemon=True)
        self.username, self.schedule, self.start_at, self.offset = username, schedule, start, offset
        self.tally = Tally('rush')
        self.http = Http(port, self.tally, schedule)
        self.result = {'username': username, 'error': None}

    def run(self):
        try:
            token = csrf_token(self.http.send('GET', '/login', 'GET /login').text)
        except Exception as err:                       # reported, fails the rush
            token, self.result['error'] = '', f'login page: {err!r}'
        self.schedule.ready.wait()
        if self.result['error']:
            return
        cpu = time.thread_time()
        try:
            self.sign_in(token)
        finally:
            self.result['client_cpu_s'] = time.thread_time() - cpu

    def sign_in(self, token):
        from web.demo import PASSWORD
        time.sleep(max(0.0, self.start_at[0] + self.offset - time.monotonic()))
        pressed = time.perf_counter()
        answer = self.http.send('POST', '/login', 'POST /login', form=[
            ('csrf_token', token), ('username', self.username), ('password', PASSWORD)])
        self.result['post_s'] = time.perf_counter() - pressed
        if answer.status != 302:
            self.result['error'] = f'POST /login answered {answer.status}'
            return
        page = self.http.send('GET', answer.location, 'GET home', follow=True)
        self.result['in_s'] = time.perf_counter() - pressed
        if page.status != 200 or 'logout' not in page.text:
            self.result['error'] = f'the home page answered {page.status}'


def rush(port, people, spread, seed, on_start=lambda: None):
    """One rush: everybody signs in at a moment within `spread` seconds (`on_start` is called just before).
    Returns the per-person results."""
    rng = random.Random(seed)
    order = list(people)
    rng.shuffle(order)
    schedule, start = Schedule(len(order)), [0.0]
    threads = [Person(u, port, schedule, start, spread * i / len(order)) for i, u in enumerate(order)]
    for thread in threads:
        thread.start()
    schedule.ready.wait(timeout=120)
    on_start()
    start[0] = time.monotonic() + 0.05                  # set before anybody's moment comes
    began = time.monotonic()
    for thread in threads:
        thread.join(timeout=120)
    results = [t.result for t in threads]
    ins = [r['in_s'] for r in results if 'in_s' in r]
    posts = [r['post_s'] for r in results if 'post_s' in r]
    return {'people': len(results), 'errors': [f"{r['username']}: {r['error']}" for r in results if r['error']],
            'in_median_s': _r(statistics.median(ins)) if ins else None,
            'in_p90_s': _r(percentile(ins, 90)) if ins else None, 'in_max_s': _r(max(ins)) if ins else None,
            'post_median_s': _r(statistics.median(posts)) if posts else None,
            'post_max_s': _r(max(posts)) if posts else None,
            'all_in_after_s': _r(time.monotonic() - began - 0.05),
            'client_cpu_s': _r(sum(r.get('client_cpu_s', 0) for r in results)),
            'within_target': sum(1 for v in ins if v <= TARGET_S)}


def _r(value):
    return round(value, 3)


def run(database='sqlite', database_url=None, workers=4, runs=3, spread=1.0, old_hashes=False, seed=1, log=print):
    folder = tempfile.mkdtemp(prefix='chuangzheng-rush.')
    keys = {'CHUANGZHENG_AUDIT_KEY': secrets.token_hex(24), 'CHUANGZHENG_UPLOADS': os.path.join(folder, 'uploads')}
    from engine import org
    try:
        with _database(database, database_url, folder) as (url, db_cpu), _environment(**keys):
            people = prepare(url, old_hashes, log)
            db_cpu = db_cpu or dict
            rushes = []
            with gunicorn(url, workers, folder, secrets.token_hex(24)) as (port, log_path, cpu):
                for i in range(runs):
                    time.sleep(2.0)                     # the server idle again
                    at = {}
                    result = rush(port, people, spread, seed + i, lambda: at.update(server=cpu(), db=db_cpu()))
                    result['server_cpu_s'] = round(_used_since(at['server'], cpu()), 2)
                    result['database_server_cpu_s'] = round(_used_since(at['db'], db_cpu()), 2)
                    result['load_average_1min'] = round(os.getloadavg()[0], 2)
                    result['hashes'] = 'earlier release (64 MiB)' if old_hashes and i == 0 else 'current'
                    rushes.append(result)
                    log(line(i + 1, result))
            server_log = read_server_log(log_path)
        return {'database': database, 'workers': workers, 'people': len(people), 'spread_s': spread,
                'target_s': TARGET_S, 'hash_parameters': org.HASH_PARAMETERS,
                'old_parameters': OLD_PARAMETERS if old_hashes else None, 'rushes': rushes,
                'server_log': server_log, 'machine': f'{os.cpu_count()} cores, {platform.platform()}',
                'load_average_1min_after': round(os.getloadavg()[0], 2),
                'when': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def line(number, r):
    return (f"rush {number} ({r['hashes']} hashes): {r['people']} people, in: median {r['in_median_s']} s, "
            f"p90 {r['in_p90_s']} s, max {r['in_max_s']} s ({r['within_target']} within {TARGET_S:g} s); "
            f"POST /login median {r['post_median_s']} s, max {r['post_max_s']} s; CPU: server {r['server_cpu_s']} s, "
            f"clients {r['client_cpu_s']} s; errors {len(r['errors'])}")


def passed(summary):
    current = [r for r in summary['rushes'] if r['hashes'] == 'current']
    return bool(current) and all(not r['errors'] and r['within_target'] == r['people'] for r in current) \
        and not summary['server_log']['5xx'] and not summary['server_log']['tracebacks']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--database', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--database-url', help='PostgreSQL database to use (it is WIPED); default: a throwaway '
                                               'server with durable settings')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--runs', type=int, default=3, help='rushes, one after the other (2 s apart)')
    parser.add_argument('--spread', type=float, default=1.0, help='seconds over which the sign-ins start')
    parser.add_argument('--old-hashes', action='store_true',
                        help="start from the earlier release's password hashes (64 MiB): the first rush rehashes")
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--output', help='JSON summary (default artifacts/signin-rush-<database>.json)')
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):
        summary = run(args.database, args.database_url, args.workers, args.runs, args.spread, args.old_hashes,
                      args.seed)
    output = args.output or os.path.join(ROOT, 'artifacts', f'signin-rush-{args.database}'
                                         f'{"-old-hashes" if args.old_hashes else ""}.json')
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, 'w', encoding='utf-8') as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
    for number, result in enumerate(summary['rushes'], 1):
        print(line(number, result))
        for error in result['errors'][:5]:
            print('   ', error)
    print(f"server: {summary['server_log']}; written to {output}")
    return 0 if passed(summary) else 1


if __name__ == '__main__':
    sys.exit(main())
