"""Union staff edit a campaign's stage checklist (六个一, 四个机制 …): data, not code, and audited."""
from marshmallow import Schema, fields, validate

from models import Requirement
from workflows.rules import UNION
from workflows.stages import STAGES

from engine import names
from engine.errors import BadInput, NotFound
from engine.rules.payloads import load
from engine.door.runtime import edit_content

EVIDENCE_KINDS = ('text_or_file', 'text', 'file')


class RequirementFields(Schema):
    title_zh = fields.String(validate=[validate.Length(min=1, max=200), names.validate])
    title_en = fields.String(validate=[validate.Length(min=1, max=200), names.validate])
    description = fields.String(validate=validate.Length(max=2000))
    cadence = fields.String(validate=validate.Length(max=100))
    evidence_kind = fields.String(validate=validate.OneOf(EVIDENCE_KINDS))
    position = fields.Integer(strict=True, validate=validate.Range(0, 1000))
    active = fields.Boolean()


class NewRequirement(RequirementFields):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    code = fields.String(required=True, validate=validate.Regexp(r'^[a-z][a-z0-9_]{1,39}$'))
    title_zh = fields.String(required=True, validate=[validate.Length(min=1, max=200), names.validate])
    title_en = fields.String(required=True, validate=[validate.Length(min=1, max=200), names.validate])


DENIED = '只有本单位处工会可以修改创建要求 (only union staff of the unit may edit requirements)'


def update_requirement(campaign, requirement_id, actor, changes, *, reason=None, expected_version=None):
    """Change some fields of one requirement; deactivating (active=False) retires it without losing history."""
    data = load(RequirementFields, changes, '创建要求')
    if not data:
        raise BadInput('没有要修改的内容 (nothing to change)')

    def apply(record, ctx):
        requirement = Requirement.get_or_none(Requirement.id == requirement_id, Requirement.campaign == record)
        if requirement is None:
            raise NotFound('该创建要求不存在 (requirement not found)')
        before = {name: getattr(requirement, name) for name in data}
        Requirement.update(**data).where(Requirement.id == requirement.id).execute()
        return {'requirement_id': requirement.id, 'before': before, 'after': data}

    return edit_content(campaign, 'edit_requirement', actor, [UNION], apply, denied=DENIED, reason=reason,
                        expected_version=expected_version)


def add_requirement(campaign, actor, fields_, *, reason=None, expected_version=None):
    data = load(NewRequirement, fields_, '创建要求')

    def apply(record, ctx):
        if Requirement.select().where(Requirement.campaign == record, Requirement.stage == data['stage'],
                                      Requirement.code == data['code']).exists():
            raise BadInput(f'该阶段已有代码为 {data["code"]} 的要求 (code already used)')
        requirement = Requirement.create(campaign=record, **data)
        return {'requirement_id': requirement.id, 'after': data}

    return edit_content(campaign, 'add_requirement', actor, [UNION], apply, denied=DENIED, reason=reason,
                        expected_version=expected_version)
