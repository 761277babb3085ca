"""A throwaway PostgreSQL server on a free loopback port for a benchmark, with DURABLE settings (fsync and
synchronous_commit on, unlike .ci/postgres.sh): Debian's server binaries, run as the postgres user (needs root,
as CI and these machines have). Stopped and removed on exit."""
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _bin():
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'), key=lambda p: int(p.split('/')[4]))
    if not found:
        raise SystemExit('PostgreSQL server binaries not found: apt-get install -y postgresql '
                         '(or pass --database-url)')
    return os.path.dirname(found[-1])


def _as_postgres(*command):
    subprocess.run(['runuser', '-u', 'postgres', '--', *command], check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def throwaway_postgres(max_connections=100):
    """Yield (the URL of an empty database on a fresh server, the server's data directory)."""
    pg_bin, port = _bin(), free_port()
    folder = tempfile.mkdtemp(prefix='chuangzheng-bench-pg.')
    shutil.chown(folder, 'postgres')
    data = os.path.join(folder, 'data')
    _as_postgres(f'{pg_bin}/initdb', '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
                 '--locale=C.UTF-8')
    options = f'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}'
    _as_postgres(f'{pg_bin}/pg_ctl', '-D', data, '-l', os.path.join(folder, 'log'), '-w', '-o', options, 'start')
    try:
        _as_postgres(f'{pg_bin}/createdb', '-h', '127.0.0.1', '-p', str(port), 'chuangzheng_load')
        yield f'postgresql://postgres@127.0.0.1:{port}/chuangzheng_load', data
    finally:
        subprocess.run(['runuser', '-u', 'postgres', '--', f'{pg_bin}/pg_ctl', '-D', data, '-m', 'fast', 'stop'],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def postmaster_pid(data):
    with open(os.path.join(data, 'postmaster.pid')) as f:
        return int(f.readline())
