"""Production server settings (gunicorn), all from the environment:

    CHUANGZHENG_ENV=production SECRET_KEY=… CHUANGZHENG_AUDIT_KEY=… DATABASE_URL=postgresql://… \
        .venv/bin/gunicorn -c gunicorn.conf.py

Each worker is its own process with its own connection pool; nothing time-based runs inside a worker
(the scheduler is `flask --app web tick`, run by cron every minute)."""
import os

wsgi_app = 'web:create_app()'
bind = os.environ.get('CHUANGZHENG_BIND', '127.0.0.1:8000')
workers = int(os.environ.get('CHUANGZHENG_WORKERS', '4'))
worker_class = 'sync'
timeout = int(os.environ.get('CHUANGZHENG_TIMEOUT', '60'))
graceful_timeout = 30
max_requests = 5000            # recycle workers now and then
max_requests_jitter = 500
accesslog = '-'
errorlog = '-'
forwarded_allow_ips = os.environ.get('CHUANGZHENG_PROXY_IPS', '127.0.0.1')

# The app's own log (the security log among it): the one configuration web/logging_setup.py gives `flask run`
# too — UTC ISO 8601 times, the client's address and the user on every line, on standard error beside
# gunicorn's error log.
from web import logging_setup  # noqa: E402

logconfig_dict = logging_setup.config()

# Every response of gunicorn carries "Server: gunicorn" (its name, no version); it has no setting for that
# header and the app cannot remove it (it is written after the app's headers), so name no software at all.
# If a future gunicorn moves this module constant, the line does nothing and the header stays "gunicorn".
import gunicorn.http.wsgi  # noqa: E402

if isinstance(getattr(gunicorn.http.wsgi, 'SERVER', None), str):
    gunicorn.http.wsgi.SERVER = 'chuangzheng'
