"""Verifying a long audit chain on several cores: the seq range is cut into stretches, each checked by its own
process (see WORKER) on its own connection, streaming its rows; the stretches come back in
seq order and engine.chain.audit.verify links each to the one before. Short chains, and in-memory SQLite databases,
are checked in the calling process."""
import json
import os
import queue
import subprocess
import sys
import threading

from engine.chain.scan import SELECT, Checker, Segment, scan

PARALLEL_FROM = 400_000        # records: below this, starting processes costs more than it saves
STRETCHES_PER_WORKER = 2       # more, shorter stretches even out a shared machine's uneven cores
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The worker needs only engine.chain.scan: an empty `engine` package stands in for the real one, whose
# __init__ would load (and validate) the whole engine in every worker first.
WORKER = ('import sys, types; engine = types.ModuleType("engine"); engine.__path__ = [%r]; '
          'sys.modules["engine"] = engine; from engine.chain.workers import main; main()'
          % os.path.join(ROOT, 'engine'))
PG_OPTIONS = ('host', 'port', 'user', 'password', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'options',
              'connect_timeout', 'passfile', 'application_name')


def worker_count(workers=None):
    if workers is None:
        workers = int(os.environ.get('CHUANGZHENG_VERIFY_WORKERS') or min(os.cpu_count() or 1, 8))
    return max(1, workers)


def connection_spec(db):
    """How a worker process reaches the bound database, or None when it cannot (in-memory SQLite)."""
    from peewee import PostgresqlDatabase, SqliteDatabase
    if isinstance(db, SqliteDatabase):
        if not db.database or db.database == ':memory:' or db.database.startswith('file:'):
            return None
        return {'sqlite': os.path.abspath(db.database)}
    if isinstance(db, PostgresqlDatabase):
        params = {k: v for k, v in db.connect_params.items() if k in PG_OPTIONS}
        return {'postgres': {'dbname': db.database, **params}}
    return None


def stretches(lo, hi, parts):
    size = -(-(hi - lo + 1) // parts)
    return [(start, min(start + size - 1, hi)) for start in range(lo, hi + 1, size)]


def parallel_segments(spec, key, erasures, lo, hi, workers, stop_at_first, progress=None):
    """Segments of [lo, hi] in seq order, each checked by a worker process; at most `workers` run at once.
    Closing the generator early (verify stops at the first problem) ends the workers still running."""
    bounds = stretches(lo, hi, workers * STRETCHES_PER_WORKER)
    events, running, done, waiting = queue.Queue(), {}, {}, list(enumerate(bounds))
    next_out = 0
    try:
        while next_out < len(bounds):
            while waiting and len(running) < workers:
                index, (a, b) = waiting.pop(0)
                running[index] = _start(index, spec, key, erasures, a, b, stop_at_first, events)
            index, kind, value = events.get()
            if kind == 'progress':
                if progress:
                    progress(value)
                continue
            running.pop(index).wait()
            if kind == 'error':
                raise RuntimeError(f'audit verification worker failed: {value}')
            done[index] = value
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        for process in running.values():
            process.kill()
            process.wait()


def _start(index, spec, key, erasures, lo, hi, stop_at_first, events):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    process = subprocess.Popen([sys.executable, '-c', WORKER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    job = {'db': spec, 'key': key.hex(), 'erasures': sorted(erasures.items()), 'lo': lo, 'hi': hi,
           'stop_at_first': stop_at_first}
    threading.Thread(target=_listen, args=(index, process, json.dumps(job), events), daemon=True).start()
    return process


def _listen(index, process, job, events):
    """Feed the job to the worker, relay its progress lines and its result."""
    result = None
    try:
        with process.stdin:
            process.stdin.write(job)
        with process.stdout:
            for line in process.stdout:
                kind, _, value = line.partition(' ')
                if kind == 'P':
                    events.put((index, 'progress', int(value)))
                elif kind == 'R':
                    result = Segment.from_dict(json.loads(value))
    except (OSError, ValueError):
        pass                 # killed while running: nobody waits for this answer any more
    with process.stderr:
        errors = process.stderr.read()
    events.put((index, 'done', result) if result else (index, 'error', errors.strip()[-2000:] or 'no result'))


def _rows(spec, lo, hi):
    """The stretch's rows, streamed (a server-side cursor on PostgreSQL)."""
    if 'sqlite' in spec:
        import sqlite3
        from urllib.request import pathname2url
        conn = sqlite3.connect(f'file:{pathname2url(spec["sqlite"])}?mode=ro', uri=True)
        yield from conn.execute(f'{SELECT} WHERE r.seq BETWEEN ? AND ? ORDER BY r.seq', (lo, hi))
        conn.close()
        return
    import psycopg2
    conn = psycopg2.connect(**spec['postgres'])
    try:
        with conn.cursor(name='audit_verify') as cursor:
            cursor.itersize = 20000
            cursor.execute(f'{SELECT} WHERE r.seq BETWEEN %s AND %s ORDER BY r.seq', (lo, hi))
            yield from cursor
    finally:
        conn.close()


def main():
    job = json.loads(sys.stdin.read())

    def report(n):
        print(f'P {n}', flush=True)

    segment = scan(_rows(job['db'], job['lo'], job['hi']), Checker(bytes.fromhex(job['key']), dict(job['erasures'])),
                   job['lo'],
                   job['stop_at_first'], progress=report, every=50000)
    print('R ' + json.dumps(segment.as_dict()), flush=True)


if __name__ == '__main__':
    main()
