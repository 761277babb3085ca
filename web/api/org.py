"""The caller and the organisation: units, branches and teams the caller may read."""
from flask import g

from engine import find_visible
from engine import team_timeline
from engine import visible_branches, visible_teams, visible_units
from models import Branch, Campaign, Member, Participation, RoleAssignment, Team, Unit

from . import schemas as s
from .auth import actor
from .common import blueprint, page, path_id
from .present import audit_dict, record_dict, team_dict

bp = blueprint('organisation', '/api/v1',
               description='The caller, and the units (处), branches (分会) and teams (班组) they may read.')


@bp.route('/me', methods=['GET'])
@bp.response(200, s.MeSchema)
def me():
    """Who the token belongs to, and their roles"""
    user = actor()
    roles = [{'role': a.role, 'unit_id': a.unit_id, 'branch_id': a.branch_id, 'team_id': a.team_id}
             for a in RoleAssignment.select().where(RoleAssignment.user == user).order_by(RoleAssignment.id)]
    return {'id': user.id, 'username': user.username, 'display_name': user.display_name, 'roles': roles,
            'token': g.api_token.__data__}


@bp.route('/units', methods=['GET'])
@bp.response(200, s.UnitListSchema)
def units():
    """Units the caller may read (union staff: their unit; auditors: all)"""
    return {'items': [u.__data__ for u in visible_units(actor()).order_by(Unit.id)]}


@bp.route('/branches', methods=['GET'])
@bp.response(200, s.BranchListSchema)
def branches():
    """Branches the caller may read"""
    rows = visible_branches(actor()).order_by(Branch.id)
    return {'items': [{'id': b.id, 'unit_id': b.unit_id, 'name': b.name} for b in rows]}


@bp.route('/teams', methods=['GET'])
@bp.arguments(s.TeamQuerySchema, location='query')
@bp.response(200, s.TeamPageSchema)
def teams(query):
    """Teams the caller may read, by id, paged"""
    rows = visible_teams(actor())
    if 'unit_id' in query:
        rows = rows.where(Branch.unit == query['unit_id'])
    if 'branch_id' in query:
        rows = rows.where(Team.branch == query['branch_id'])
    return page(rows, Team.id, query, lambda t: team_dict(t, t.branch))


@bp.route(f'/teams/{path_id("team_id")}', methods=['GET'])
@bp.response(200, s.TeamDetailSchema)
def team(team_id):
    """One team with its unit's campaigns and its participations"""
    row = find_visible(actor(), 'team', team_id)
    campaigns = Campaign.select().where(Campaign.unit == Branch.get_by_id(row.branch_id).unit_id).order_by(Campaign.id)
    participations = Participation.select().where(Participation.team == row).order_by(Participation.id)
    return {**team_dict(row), 'members': Member.select().where(Member.team == row).count(),
            'campaigns': [record_dict(c) for c in campaigns], 'participations': [record_dict(p) for p in participations]}


@bp.route(f'/teams/{path_id("team_id")}/history', methods=['GET'])
@bp.response(200, s.HistorySchema)
def team_history(team_id):
    """Every audit record of every object of one team, oldest first"""
    row = find_visible(actor(), 'team', team_id)
    return {'items': [audit_dict(r) for r in team_timeline(row)]}

