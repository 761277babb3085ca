"""The signed-in person's own account: their sessions (list, end one, end all others) and their API tokens (list,
create — the secret is shown once, never stored — and revoke)."""
import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import create_token, revoke_token, tokens_of

from .. import sessions
from ..security import log_safe
from .auth import sign_out
from .common import me

bp = Blueprint('account', __name__)
security_log = logging.getLogger('chuangzheng.security')


@bp.get('/account')
@login_required
def index():
    page = render_template('account.html', sessions=sessions.of(me()), current=current_user.session_id,
                           idle_days=current_app.config.get('SESSION_IDLE_DAYS'))
    return page, 200, {'Cache-Control': 'no-store'}


@bp.post('/account/sessions/<int:session_id>/end')
@login_required
def end_session(session_id):
    if not sessions.end(me(), session_id):
        abort(404, '会话不存在或已结束 (no such session, or it has ended)')
    _log('session ended by its owner', session_id)
    if session_id == current_user.session_id:
        return sign_out()
    flash(_('已结束该会话，它所在的浏览器需要重新登录。'), 'success')
    return redirect(url_for('account.index'), 303)


@bp.post('/account/sessions/end-others')
@login_required
def end_other_sessions():
    ended = sessions.end_all(me(), keep=current_user.session_id)
    _log(f'{ended} other sessions ended by their owner', current_user.session_id)
    flash(_('已结束其他 %(num)d 个会话。', num=ended), 'success')
    return redirect(url_for('account.index'), 303)


def _log(event, session_id):
    security_log.info('%s: user=%s session=%s ip=%s', event, current_user.user.id, session_id,
                      log_safe(request.remote_addr))


def _page(secret=None, created=None, status=200):
    response = render_template('account_tokens.html', tokens=tokens_of(me()), secret=secret, created=created)
    return response, status, {'Cache-Control': 'no-store'}


@bp.get('/account/tokens')
@login_required
def tokens():
    return _page()


@bp.post('/account/tokens')
@login_required
def create():
    token, secret = create_token(me(), request.form.get('name', ''))
    return _page(secret=secret, created=token, status=201)


@bp.post('/account/tokens/<int:token_id>/revoke')
@login_required
def revoke(token_id):
    token = revoke_token(me(), token_id)
    flash(_('令牌「%(name)s」已吊销。', name=token.name), 'success')
    return redirect(url_for('account.tokens'), 303)
