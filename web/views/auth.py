"""Signing in and out, and choosing the language."""
import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine import security_log
from engine import check_password
from models import User

from .. import logins, sessions
from ..extensions import LANGUAGES, login_manager
from ..security import local_path

bp = Blueprint('auth', __name__)
REFUSED = {'pair': 'username from this address', 'ip': 'address', 'user': 'username from unknown addresses'}
OWN_SESSION_BLUEPRINTS = ('auth', 'account')     # signing in and out, the language, one's own sessions and tokens


class Account(UserMixin):
    """The signed-in person as Flask-Login sees them: `user` is the database row, `session_id` the id of their
    user_session row, and the id Flask-Login keeps in the cookie is that session's random key."""

    def __init__(self, user, session_id, key):
        self.user, self.session_id, self._key = user, session_id, key

    def get_id(self):
        return self._key


@login_manager.user_loader
def load_account(key):
    row = sessions.load(key, current_app.config)
    return Account(row.user, row.id, key) if row is not None else None


@bp.before_app_request
def auditors_are_read_only():
    """An auditor may read everything and change nothing: any POST but those about their own session is refused
    before a view runs."""
    if (request.method in ('GET', 'HEAD', 'OPTIONS') or request.blueprint in OWN_SESSION_BLUEPRINTS
            or request.routing_exception):
        return
    if current_user.is_authenticated:
        roles = {a.role for a in current_user.user.roles}
        if roles and roles <= {'auditor'}:      # logged with the endpoint by the error handler (web.errors)
            abort(403, '审计人员只能查看，不能办理或修改 (auditors are read-only)')


@bp.route('/login', methods=['GET', 'POST'])
def login():
    error = None
    if request.method == 'POST':
        username = request.form.get('username', '').strip()[:60]
        password = request.form.get('password', '')[:200]
        attempt, refusal = logins.begin(username, request.remote_addr, current_app.config)
        if refusal is not None:
            _log_login('throttled', username, reason=f'too many failed attempts for this {REFUSED[refusal.scope]}')
            minutes = max(1, -(-refusal.retry_after // 60))
            message = _('登录失败次数过多，请 %(minutes)d 分钟后再试。', minutes=minutes)
            return render_template('login.html', error=message), 429, {'Retry-After': str(refusal.retry_after)}
        user = User.get_or_none(User.username == username) if '\x00' not in username else None  # PostgreSQL: no NUL
        ok = user is not None and not user.is_system and check_password(user, password)
        logins.finish(attempt, ok)
        if ok:
            _log_login('succeeded', username, logging.INFO, user=user)
            lang = session.get('lang')
            session.clear()                       # a new session at every login
            if lang:
                session['lang'] = lang
            key = sessions.start(user, request.remote_addr, request.user_agent.string, current_app.config)
            login_user(Account(user, None, key))
            return redirect(_safe_next(request.args.get('next')))
        _log_login('failed', username, reason='wrong username or password')
        error = _('用户名或密码错误')
    return render_template('login.html', error=error), (401 if error else 200)


def _log_login(outcome, username, level=logging.WARNING, user=None, reason=None):
    """One line of the security log (engine.security_log): the username as typed, escaped there; the client's
    address and the time are added by the log (web.logging_setup)."""
    security_log.event('login', outcome, actor=user, username=username, reason=reason, level=level)


def _safe_next(target):
    return local_path(target) or url_for('home.index')


@bp.post('/logout')
@login_required
def logout():
    sessions.end(current_user.user, current_user.session_id)      # revoke on the server
    security_log.event('logout', 'succeeded', actor=current_user.user, level=logging.INFO)
    return sign_out()


def sign_out():
    """Forget the session in this browser (its row is gone already) and go to the login page."""
    logout_user()
    session.clear()
    return redirect(url_for('auth.login'), 302)


@bp.post('/language/<code>')
def language(code):
    if code in LANGUAGES:
        session['lang'] = code
    return redirect(_safe_next(request.form.get('next')))
