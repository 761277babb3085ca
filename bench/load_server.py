"""The production server for the load test, as `make serve` runs it (gunicorn -c gunicorn.conf.py, production
settings from the environment) on a free loopback port, and what its log says afterwards."""
import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.request

from .pgserver import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def gunicorn_process(env, log):
    """`gunicorn -c gunicorn.conf.py` (what `make serve` runs) with `env`, its output to `log`; stopped at the end
    (killed if it does not stop within 30 s). Shared by the load benchmark and the tests that need a real server."""
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'gunicorn'), '-c', 'gunicorn.conf.py'],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


@contextlib.contextmanager
def gunicorn(url, workers, folder, secret_key):
    """The production server as `make serve` runs it, on a free loopback port; yields (port, log path, a function
    giving the CPU seconds its workers have used so far)."""
    port, log_path = free_port(), os.path.join(folder, 'gunicorn.log')
    env = {**os.environ, 'CHUANGZHENG_ENV': 'production', 'SECRET_KEY': secret_key, 'DATABASE_URL': url,
           'CHUANGZHENG_BIND': f'127.0.0.1:{port}', 'CHUANGZHENG_WORKERS': str(workers)}
    with open(log_path, 'wb') as log, gunicorn_process(env, log) as server:
        _wait_for(f'http://127.0.0.1:{port}/healthz', server)
        yield port, log_path, lambda: workers_cpu_seconds(server.pid)


def _wait_for(url, server, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read()
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'gunicorn did not come up (exit code {server.poll()})') from None
            time.sleep(0.3)


def read_server_log(path):
    """What the server itself saw: requests served (not counting /healthz), 5xx, tracebacks, worker timeouts."""
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    access = re.findall(r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/[\d.]+" (\d{3}) ', text)
    served = [int(status) for path_, status in access if not path_.startswith('/healthz')]
    return {'requests_served': len(served), '5xx': sum(1 for s in served if s >= 500),
            'tracebacks': text.count('Traceback'), 'worker_timeouts': text.count('WORKER TIMEOUT')}


def workers_cpu_seconds(master):
    """{pid: CPU seconds (user + system)} of the server's worker processes, from /proc."""
    ticks, used = os.sysconf('SC_CLK_TCK'), {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:             # the parent's pid; utime and stime are fields 14 and 15
            used[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    return used
