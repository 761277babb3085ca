"""Participations, applications and innovation results: lists (what the caller may read), one record with
its checklist, evidence and the actions the caller may take, and creating new ones."""
from flask import url_for

import engine
from engine import find_visible
from engine import visible_records
from models import Application, InnovationResult, Participation

from . import schemas as s
from .auth import actor
from .common import blueprint, etag, page, path_id
from .present import detail, record_dict


def _register(bp, object_type, model, summary, full, new, filters):
    """GET list, GET one and POST (create) for one kind of team record."""

    @bp.arguments(s.RecordQuerySchema, location='query')
    @bp.response(200, summary)
    def listing(query):
        rows = visible_records(actor(), model)
        for name in filters:
            if name in query:
                rows = rows.where(getattr(model, name) == query[name])
        return page(rows, model.id, query, record_dict)

    @bp.response(200, full)
    def one(record_id):
        record = find_visible(actor(), object_type, record_id)
        return detail(actor(), record), 200, etag(record)

    @bp.arguments(new)
    @bp.response(201, full)
    def create(fields):
        record = engine.create(object_type, actor(), fields)
        location = url_for(f'{bp.name}.one', record_id=record.id)
        return detail(actor(), record), 201, {**etag(record), 'Location': location}

    for view, doc in ((listing, LIST_DOCS[object_type]), (one, ONE_DOCS[object_type]),
                      (create, CREATE_DOCS[object_type])):
        view.__doc__ = doc
    bp.route('', methods=['GET'], endpoint='listing')(listing)
    bp.route(f'/{path_id("record_id")}', methods=['GET'], endpoint='one')(one)
    bp.route('', methods=['POST'], endpoint='create')(create)


LIST_DOCS = {
    'participation': 'Team participations the caller may read, paged',
    'application': 'Applications (申报) the caller may read, paged',
    'innovation': 'Innovation results (创新成果) the caller may read, paged',
}
ONE_DOCS = {
    'participation': "One participation with the current stage's checklist, the team's evidence and the actions "
                     "the caller may take",
    'application': 'One application with its scores, objections, commendation decision and actions',
    'innovation': 'One innovation result with the actions the caller may take',
}
CREATE_DOCS = {
    'participation': 'Enrol a team in a campaign (team leader)',
    'application': 'Draft an application for a tier of commendation (team leader)',
    'innovation': 'Draft an innovation result (team leader)',
}

participations_bp = blueprint('participations', '/api/v1/participations',
                              description="Teams' participation in a campaign: enrolment and one review per stage.")
applications_bp = blueprint('applications', '/api/v1/applications',
                            description='Applications (申报) for 学习型班组, 优胜 or 标兵 commendation.')
innovations_bp = blueprint('innovations', '/api/v1/innovations',
                           description='Innovation results (创新成果), released every November.')

_register(participations_bp, 'participation', Participation, s.ParticipationPageSchema, s.ParticipationSchema,
          s.NewParticipationSchema, ('campaign_id', 'team_id', 'state'))
_register(applications_bp, 'application', Application, s.ApplicationPageSchema, s.ApplicationSchema,
          s.NewApplicationSchema, ('campaign_id', 'team_id', 'state', 'year'))
_register(innovations_bp, 'innovation', InnovationResult, s.InnovationPageSchema, s.InnovationSchema,
          s.NewInnovationSchema, ('campaign_id', 'team_id', 'state', 'year'))

BLUEPRINTS = (participations_bp, applications_bp, innovations_bp)
