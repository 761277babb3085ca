"""The production start: gunicorn with four workers, settings from the environment, refusing development
secrets, /healthz checking the database."""
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from bench.load_server import gunicorn_process
from bench.pgserver import free_port
from conftest import World, _url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRETS = {'SECRET_KEY': 's' * 40, 'CHUANGZHENG_AUDIT_KEY': 'k' * 40, 'CHUANGZHENG_ENV': 'production'}


def env_with(**values):
    env = {k: v for k, v in os.environ.items() if k not in ('SECRET_KEY', 'CHUANGZHENG_AUDIT_KEY', 'DATABASE_URL')}
    env.update(values)
    return env


@pytest.mark.parametrize('missing', ['SECRET_KEY', 'CHUANGZHENG_AUDIT_KEY', 'DATABASE_URL'])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    values = {**SECRETS, 'DATABASE_URL': f'sqlite:///{tmp_path}/p.db'}
    values.pop(missing)
    done = subprocess.run([sys.executable, '-c', 'from web import create_app; create_app()'], cwd=ROOT,
                          env=env_with(**values), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert 'refusing to start in production' in done.stderr and missing in done.stderr


@pytest.mark.parametrize('key, reason', [
    ('chuangzheng-development-audit-key-do-not-use-in-production', 'public development key'),
    ('k' * 31, 'shorter than 32 bytes')])
def test_production_refuses_the_development_audit_key_and_short_keys(tmp_path, key, reason):
    """The development key is printed in the source: with it anyone could recompute a forged chain."""
    values = {**SECRETS, 'DATABASE_URL': f'sqlite:///{tmp_path}/p.db', 'CHUANGZHENG_AUDIT_KEY': key}
    for command in ('from web import create_app; create_app()',
                    'import sys; sys.argv = ["flask", "--app", "web", "verify"]; from flask.cli import main; main()'):
        done = subprocess.run([sys.executable, '-c', command], cwd=ROOT, env=env_with(**values),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and reason in done.stderr, done.stderr
        assert 'Traceback' not in done.stderr


@pytest.mark.parametrize('name, value', [('CHUANGZHENG_LOGIN_WINDOW', '15min'), ('CHUANGZHENG_PROXY_COUNT', '-1'),
                                         ('CHUANGZHENG_LOGIN_MAX_FAILURES', '５')])
def test_a_malformed_number_setting_is_named_at_start(tmp_path, name, value):
    done = subprocess.run([sys.executable, '-c', 'from web import create_app; create_app()'], cwd=ROOT,
                          env=env_with(DATABASE_URL=f'sqlite:///{tmp_path}/p.db', **{name: value}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f'{name} must be a whole number' in done.stderr, done.stderr


def test_gunicorn_serves_with_four_workers(db, tmp_path, monkeypatch):
    monkeypatch.setenv('CHUANGZHENG_AUDIT_KEY', SECRETS['CHUANGZHENG_AUDIT_KEY'])
    World()
    port = free_port()
    env = env_with(**SECRETS, DATABASE_URL=_url(tmp_path), CHUANGZHENG_BIND=f'127.0.0.1:{port}',
                   CHUANGZHENG_WORKERS='4')
    with open(tmp_path / 'gunicorn.log', 'w') as log, gunicorn_process(env, log) as server:
        health = _wait_for(f'http://127.0.0.1:{port}/healthz')
        assert health == '{"schema":true,"status":"ok"}\n'
        workers = subprocess.run(['pgrep', '-P', str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 4
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/login', timeout=10) as page:
            assert page.status == 200 and '登录' in page.read().decode()


def _wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
