"""Settings from the environment. In production (CHUANGZHENG_ENV=production) the secrets must be set:
the app refuses to start on a development default rather than run insecurely."""
import datetime
import os

from engine import audit

DEV_SECRET = 'dev-only-secret-key'


class SettingsError(RuntimeError):
    pass


def from_environment(instance_path):
    env = os.environ
    https = env.get('CHUANGZHENG_HTTPS') == '1'
    return dict(
        ENV_NAME=env.get('CHUANGZHENG_ENV', 'development'),
        DATABASE_URL=env.get('DATABASE_URL', 'sqlite:///' + os.path.join(instance_path, 'chuangzheng.db')),
        SECRET_KEY=env.get('SECRET_KEY', DEV_SECRET),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=https,
        # The __Host- prefix pins the cookie to this host and path; browsers accept it only over HTTPS.
        SESSION_COOKIE_NAME='__Host-session' if https else 'session',
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=8),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE='zh',
        BABEL_DEFAULT_TIMEZONE='Asia/Shanghai',
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(os.path.dirname(__file__), 'translations'),
        WTF_CSRF_TIME_LIMIT=None,
        # Trusted reverse proxies in front of the app (X-Forwarded-For); 0: the peer address is the client.
        PROXY_COUNT=_whole_number('CHUANGZHENG_PROXY_COUNT', 0),
        # Login throttling (web/logins.py): failed sign-ins for a username from one address and from one address
        # over a sliding window; for a username from addresses it never signed in from, a doubling delay.
        LOGIN_MAX_FAILURES_PER_USER=_whole_number('CHUANGZHENG_LOGIN_MAX_FAILURES', 5),
        LOGIN_MAX_FAILURES_PER_IP=_whole_number('CHUANGZHENG_LOGIN_MAX_FAILURES_PER_IP', 20),
        LOGIN_WINDOW_SECONDS=_whole_number('CHUANGZHENG_LOGIN_WINDOW', 900),
        LOGIN_DELAY_AFTER=_whole_number('CHUANGZHENG_LOGIN_DELAY_AFTER', 10),
        LOGIN_DELAY_MAX_SECONDS=_whole_number('CHUANGZHENG_LOGIN_DELAY_MAX', 3600),
        # A session not used for this many days ends (0: never); web/sessions.py
        SESSION_IDLE_DAYS=_whole_number('CHUANGZHENG_SESSION_IDLE_DAYS', 7),
    )


def _whole_number(name, default):
    value = os.environ.get(name, '').strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit():
        raise SettingsError(f'{name} must be a whole number ≥ 0, not {value!r}')
    return int(value)


def check_production(config):
    """Refuse to start a production server on development secrets."""
    if config.get('ENV_NAME') != 'production':
        return
    problems = []
    if not config.get('SECRET_KEY') or config['SECRET_KEY'] == DEV_SECRET or len(config['SECRET_KEY']) < 32:
        problems.append('SECRET_KEY must be set to a random value of at least 32 characters')
    key_problem = audit.key_problem(os.environ.get('CHUANGZHENG_AUDIT_KEY'), production=True)
    if key_problem:
        problems.append(f'{key_problem} (the audit chain\'s HMAC key must be a secret of at least '
                        f'{audit.MIN_KEY_BYTES} bytes)')
    if 'DATABASE_URL' not in os.environ:
        problems.append('DATABASE_URL must be set (e.g. postgresql://user:pass@host/db)')
    if problems:
        raise SettingsError('refusing to start in production: ' + '; '.join(problems))
