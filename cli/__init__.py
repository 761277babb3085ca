"""The command line, an adapter beside web/: `flask --app web <command>` (commands.py) and the demo seed
(demo.py). Like web/, it reaches the engine only through its front door."""


def init_app(app):
    from . import commands
    commands.init_app(app)
