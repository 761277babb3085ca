"""The Flask application: a thin adapter over the engine (UI, JSON API and command line)."""
import datetime
import os

from flask import Flask

from models import database, open_database


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get('DATABASE_URL', 'sqlite:///' + os.path.join(app.instance_path, 'chuangzheng.db')),
        SECRET_KEY=os.environ.get('SECRET_KEY', 'dev-only-secret-key'),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=os.environ.get('CHUANGZHENG_HTTPS') == '1',
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=8),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE='zh',
        BABEL_DEFAULT_TIMEZONE='Asia/Shanghai',
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(os.path.dirname(__file__), 'translations'),
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    open_database(app.config['DATABASE_URL'])

    from . import cli, errors, extensions, helpers
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.babel.init_app(app, locale_selector=extensions.select_locale,
                              timezone_selector=extensions.select_timezone)
    helpers.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from .views import audit_log, auth, home, review, team, union
    for module in (auth, home, team, review, union, audit_log):
        app.register_blueprint(module.bp)
    from .api import init_api
    init_api(app)

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    return app
