"""The signed-in person's own API tokens: list, create (the secret is shown once, never stored) and revoke."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine import create_token, revoke_token, tokens_of

from .common import me

bp = Blueprint('account', __name__)


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
