"""The Flask application: a thin adapter over the engine (UI, JSON API and command line)."""
import os

from flask import Flask

from models import database, open_database

from . import settings


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    try:
        app.config.from_mapping(settings.from_environment(app.instance_path))
        if config:
            app.config.update(config)
        settings.check_production(app.config)
    except settings.SettingsError as err:
        # one clear line for the command line, gunicorn and `flask run` alike, not a traceback
        raise SystemExit(f'chuangzheng: {err}') from None
    os.makedirs(app.instance_path, exist_ok=True)
    open_database(app.config['DATABASE_URL'])

    import cli
    from . import errors, extensions, helpers, logging_setup, security
    logging_setup.init_app(app)
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.babel.init_app(app, locale_selector=extensions.select_locale,
                              timezone_selector=extensions.select_timezone)
    helpers.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    security.init_app(app)

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
