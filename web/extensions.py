"""Flask extensions, created unbound and attached in the app factory."""
from flask import session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = 'auth.login'
login_manager.login_message = None
csrf = CSRFProtect()
babel = Babel()

LANGUAGES = ('zh', 'en')


def select_locale():
    lang = session.get('lang')
    if lang in LANGUAGES:
        return lang
    return 'zh'   # Chinese first, whatever the browser says; English is one click away


def select_timezone():
    return 'Asia/Shanghai'
