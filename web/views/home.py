"""The landing page: each person goes where their work is."""
from flask import Blueprint, redirect, url_for
from flask_login import login_required

from ..helpers import current_roles

bp = Blueprint('home', __name__)


@bp.get('/')
@login_required
def index():
    roles = current_roles()
    if roles & {'branch_chair', 'party_secretary', 'union_staff'}:
        return redirect(url_for('review.inbox'))
    if 'team_leader' in roles:
        return redirect(url_for('team.mine'))
    if 'auditor' in roles:
        return redirect(url_for('audit_log.log'))
    return redirect(url_for('auth.login'))


@bp.get('/healthz')
def healthz():
    from models import database, schema_exists
    database.execute_sql('SELECT 1')
    return {'status': 'ok', 'schema': schema_exists()}

