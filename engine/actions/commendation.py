"""A commendation decision (表彰决定): one document number covering many teams, issued atomically."""
from peewee import IntegrityError

from models import Application, CommendationDecision, database
from workflows.rules import UNION

from engine import clock
from engine.door.context import ActionContext, place_of
from engine.errors import BadInput
from engine import security_log
from engine.rules.inputs import NewDecision
from engine.rules.payloads import load
from engine.door.permissions import matching_rule, refuse
from engine.door.runtime import fire, for_update


def issue_decision(campaign, actor, data):
    """Create the decision and commend every listed application under it — all of them or none."""
    with security_log.refusals('issue_decision', actor, campaign):
        return _issue(campaign, actor, data)


def _issue(campaign, actor, data):
    ctx = ActionContext(record=campaign, workflow=None, actor=actor, place=place_of(campaign))
    if matching_rule([UNION], ctx) is None:
        refuse(ctx, 'issue_decision', '只有本单位处工会可以发布表彰决定 (only union staff may commend)')
    data = load(NewDecision, data, '表彰决定')
    with database.atomic():
        # every application's row first (in id order), so that no single commend can slip in between and the
        # audit head is taken only after them; a concurrent decision with the same number then waits here
        applications = list(for_update(Application.select().where(Application.id.in_(data['application_ids']),
                                                                   Application.campaign == campaign)
                                       .order_by(Application.id)))
        if CommendationDecision.select().where(CommendationDecision.doc_number == data['doc_number']).exists():
            raise BadInput(f'文号 {data["doc_number"]} 已被使用 (document number already used)')
        try:
            with database.atomic():
                decision = CommendationDecision.create(unit=campaign.unit_id, year=data['year'],
                                                       doc_number=data['doc_number'], title=data['title'],
                                                       issued_at=clock.now(), issued_by=actor)
        except IntegrityError:      # issued at the same moment by someone else
            raise BadInput(f'文号 {data["doc_number"]} 已被使用 (document number already used)') from None
        if len(applications) != len(set(data['application_ids'])):
            raise BadInput('部分申报不属于本活动 (some applications are not in this campaign)')
        for application in applications:
            fire(application, 'commend', actor, payload={'decision_id': decision.id})
    return decision
