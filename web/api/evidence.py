"""Evidence (佐证材料) for one requirement of a participation: read it, set its text, upload attachments,
download them. Writes go through engine.record_evidence (team leader only, locked while under review)."""
import os

from flask import send_file

import engine
from engine import find_visible, find_visible_attachment
from engine import NotFound
from engine import upload_dir
from models import Evidence, Participation, Requirement

from . import schemas as s
from .auth import actor
from .common import blueprint, etag, path_id, seen_version
from .present import requirement_dict

bp = blueprint('evidence', '/api/v1',
               description='Evidence for the requirements of a stage; locked while the stage is under review.')

ITEM = f'/participations/{path_id("participation_id")}/evidence/{path_id("requirement_id")}'


def _item(participation, requirement_id):
    requirement = Requirement.get_or_none(Requirement.id == requirement_id,
                                          Requirement.campaign == participation.campaign_id)
    if requirement is None:
        raise NotFound('该要求不属于此创建活动 (requirement not in this campaign)')
    evidence = Evidence.get_or_none(Evidence.participation == participation, Evidence.requirement == requirement)
    participation = Participation.get_by_id(participation.id)
    return {'participation_id': participation.id, 'participation_version': participation.version,
            'requirement': requirement_dict(requirement, evidence)}, 200, etag(participation)


@bp.route(ITEM, methods=['GET'])
@bp.response(200, s.EvidenceItemSchema)
def item(participation_id, requirement_id):
    """One requirement with the team's evidence (text, review status, attachments)"""
    participation = find_visible(actor(), 'participation', participation_id)
    return _item(participation, requirement_id)


@bp.route(ITEM, methods=['PUT'])
@bp.arguments(s.RequiredIfMatchSchema, location='headers')
@bp.arguments(s.EditEvidenceSchema)
@bp.response(200, s.EvidenceItemSchema)
def edit(headers, body, participation_id, requirement_id):
    """Set the evidence text, optionally removing attachments (team leader; If-Match required)"""
    participation = find_visible(actor(), 'participation', participation_id)
    version = seen_version(headers)
    engine.record_evidence(participation, requirement_id, actor(), text=body['text'],
                           remove_attachment_ids=body.get('remove_attachment_ids', ()), expected_version=version)
    return _item(participation, requirement_id)


@bp.route(ITEM, methods=['POST'])
@bp.arguments(s.RequiredIfMatchSchema, location='headers')
@bp.arguments(s.UploadSchema, location='files')
@bp.response(200, s.EvidenceItemSchema)
def upload(headers, files, participation_id, requirement_id):
    """Add an attachment (multipart/form-data, field "file"; team leader; If-Match required)"""
    participation = find_visible(actor(), 'participation', participation_id)
    version = seen_version(headers)
    upload_ = files['file']
    data = upload_.read(engine.MAX_FILE_BYTES + 1)
    engine.record_evidence(participation, requirement_id, actor(), add_files=[(upload_.filename or '', data)],
                           expected_version=version)
    return _item(participation, requirement_id)


@bp.route(f'/attachments/{path_id("attachment_id")}', methods=['GET'])
@bp.response(200, {'type': 'string', 'format': 'binary'}, content_type='application/octet-stream')
def attachment(attachment_id):
    """Download an attachment (its name and type are in the evidence's attachment list)"""
    row = find_visible_attachment(actor(), attachment_id)
    path = os.path.abspath(os.path.join(upload_dir(), row.sha256))
    if not os.path.exists(path):
        raise NotFound('附件文件已不在存储中 (the file is missing from storage)')
    return send_file(path, mimetype='application/octet-stream', as_attachment=True, download_name=row.filename)
