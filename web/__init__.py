"""The Flask application: a thin adapter over the engine (UI, JSON API and command line)."""
import os

from flask import Flask

from models import database, open_database


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get('DATABASE_URL', 'sqlite:///' + os.path.join(app.instance_path, 'chuangzheng.db')),
        SECRET_KEY=os.environ.get('SECRET_KEY', 'dev-only-secret-key'),
    )
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    open_database(app.config['DATABASE_URL'])

    from . import cli, pages
    cli.init_app(app)
    pages.init_app(app)

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    return app
