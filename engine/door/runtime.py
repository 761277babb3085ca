"""The one door for state changes: create a record or fire an event on it.

the machine (route → permission → input → guards → effects) → versioned write → audit record, all in ONE
transaction."""
import json

from peewee import IntegrityError

from models import Campaign, database, is_sqlite

from engine.chain import audit
from engine import clock
from engine import security_log
from engine.door import statements
from engine.door import steps
from engine.door.context import ActionContext, Place, place_of
from engine.rules.effects import EFFECTS
from engine.errors import BadInput, Conflict, InvalidTransition, not_found
from engine.door.machines import machine_for
from engine.rules.payloads import clean_reason, load
from engine.door.kinds import KINDS, kind_named, kind_of
from engine.door.permissions import authorize, hide_unless_visible, matching_rule, may_fire_somewhere, refuse

def object_type_of(record):
    kind = kind_of(record)
    if kind is None:
        raise BadInput(f'not a workflow object: {type(record).__name__}')
    return kind.name


def for_update(query):
    """Inside a transaction: lock the rows `query` reads until commit (PostgreSQL; on SQLite the IMMEDIATE
    transaction already holds the database's write lock). Writers of one object then queue up at the start —
    object rows first, the audit head last — instead of meeting halfway through their effects (a deadlock)."""
    return query if is_sqlite() else query.for_update()


def load_object(object_type, object_id, *, lock=False):
    """The record, or NotFound; `lock`: hold its row until the transaction ends (see for_update)."""
    record = statements.load_with_place(kind_named(object_type).model, object_id, lock=lock)
    if record is None:
        raise not_found(object_type, object_id)
    return record


def _audit_payload(ctx, failed):
    payload = dict(ctx.payload)
    if ctx.overriding:
        payload['override'] = True
    if failed:
        payload['overridden_guards'] = [r.as_dict() for r in failed]
    return payload


def fire(obj, event, actor, *, reason=None, payload=None, expected_version=None, override=False):
    """Fire `event` on `obj` as `actor`. `expected_version` (default: obj.version) is the version the
    caller saw; if someone changed the object since, Conflict is raised. Returns the updated record."""
    object_type = object_type_of(obj)
    expected = obj.version if expected_version is None else expected_version
    with security_log.refusals(event, actor, obj), database.atomic():
        record = load_object(object_type, obj.id, lock=True)
        workflow = KINDS[object_type].definition(record.workflow_version)
        ctx = ActionContext(record=record, workflow=workflow, actor=actor, place=place_of(record),
                            override=override, now=clock.now())
        ctx.requested_reason, ctx.requested_payload = reason, payload
        candidates = workflow.candidates(record.state, event)
        if event in workflow.events and not may_fire_somewhere(workflow, event, ctx):
            # refused before anything about the object (its version, its state) is revealed
            authorize((candidates or [t for t in workflow.transitions if t.event == event])[0], ctx)
        if record.version != expected:
            raise Conflict(details={'expected_version': expected, 'current_version': record.version})
        if not candidates:
            if event not in workflow.events or not may_fire_somewhere(workflow, event, ctx):
                if event in workflow.events:
                    refuse(ctx, event, f'无权执行此操作 (not permitted: {event})')
                hide_unless_visible(actor, record, event)
                raise InvalidTransition(f'未知操作 {event!r} (unknown event)')
            raise InvalidTransition(
                f'当前状态「{workflow.state_label(record.state)}」下不能「{workflow.event_label(event)}」 '
                f'(cannot {event} while {record.state})', {'state': record.state, 'event': event})
        from_state = record.state
        # the machine chooses the route, then admits that transition (engine.door.steps) and takes it
        if not machine_for(workflow.name, workflow.version).events[event].trigger(record, ctx=ctx):
            raise InvalidTransition('没有符合条件的流转 (no transition applies)')
        _save(record, expected, ctx, from_state)
        audit.append(object_type, record.id, event, from_state, record.state, actor, ctx.role,
                     ctx.reason, _audit_payload(ctx, ctx.failed_guards))
    return record


def _save(record, expected, ctx, from_state):
    model = type(record)
    changes = {f.name: record.__data__.get(f.name) for f in record.dirty_fields}
    changes.update(version=expected + 1, updated_at=ctx.now)
    if record.state != from_state:
        changes['state_since'] = ctx.now
    if statements.update_versioned(model, record.id, expected, changes) != 1:
        raise Conflict()
    for name, value in changes.items():
        setattr(record, name, value)
    record._dirty.clear()


def create(object_type, actor, fields, *, reason=None):
    """Create a new workflow object in its initial state (e.g. a team enrolling), audited."""
    kind = kind_named(object_type)
    with security_log.refusals(f'create_{object_type}', actor, f'{object_type}#new'):
        return _create(kind, load(kind.new_record, fields), actor, reason)


def _create(kind, data, actor, reason):
    object_type, workflow = kind.name, kind.definition()
    transition = workflow.create
    with database.atomic():
        record = _new_record(kind, workflow, data, actor)
        ctx = ActionContext(record=record, workflow=workflow, actor=actor, place=_place_of_new(record),
                            now=clock.now(), requested_reason=reason)
        steps.admit(transition, ctx)
        record.created_at = record.updated_at = record.state_since = ctx.now
        try:
            with database.atomic():
                record.save(force_insert=True)
        except IntegrityError:
            raise Conflict('该记录已存在 (it already exists)') from None
        for name in transition.effects:
            EFFECTS[name](ctx)
        audit.append(object_type, record.id, transition.event, None, record.state, actor, ctx.role, ctx.reason,
                     _audit_payload(ctx, ctx.failed_guards) | {'fields': _jsonable(data)})
    return record


def _new_record(kind, workflow, data, actor):
    """The new record, unsaved; the team it names must exist and be one the actor may see (else the same 404)."""
    from models import Team, Unit
    data = dict(data)
    if 'team_id' in data:
        team = Team.get_or_none(Team.id == data['team_id'])
        if team is None:
            raise not_found('team', data['team_id'])
        hide_unless_visible(actor, team, f'create_{kind.name}')
    if 'unit_id' in data and Unit.get_or_none(Unit.id == data['unit_id']) is None:
        raise not_found('unit', data['unit_id'])
    if 'campaign_id' in data and Campaign.get_or_none(Campaign.id == data['campaign_id']) is None:
        raise not_found('campaign', data['campaign_id'])
    record = kind.model(state=workflow.initial, version=1, workflow_version=workflow.version, **data)
    if kind.on_create:
        kind.on_create(record)
    return record


def _place_of_new(record):
    place = place_of(record)
    if not kind_of(record).owned_by_team:
        return place
    campaign = Campaign.get_by_id(record.campaign_id)
    if campaign.unit_id != place.unit_id:       # another unit's campaign: as if it did not exist
        raise not_found('campaign', record.campaign_id)
    return Place(place.unit_id, place.branch_id, place.team_id)


def _jsonable(data):
    return json.loads(json.dumps(data, default=str))



def edit_content(obj, action, actor, rules, apply, *, denied, expected_version=None, reason=None):
    """An audited change to what a record holds (evidence, checklist) that leaves its state alone.

    `apply(record, ctx)` makes the change and returns the audit payload. Same door as `fire`: permission
    from `rules`, version check, one transaction with the audit record."""
    object_type = object_type_of(obj)
    expected = obj.version if expected_version is None else expected_version
    with security_log.refusals(action, actor, obj), database.atomic():
        record = load_object(object_type, obj.id, lock=True)
        ctx = ActionContext(record=record, workflow=None, actor=actor, place=place_of(record), now=clock.now())
        rule = matching_rule(rules, ctx)
        if rule is None:
            refuse(ctx, action, denied)
        if record.version != expected:
            raise Conflict(details={'expected_version': expected, 'current_version': record.version})
        ctx.reason = clean_reason(reason, False)
        payload = apply(record, ctx)
        model = type(record)
        updated = model.update(version=expected + 1, updated_at=ctx.now).where(
            model.id == record.id, model.version == expected).execute()
        if updated != 1:
            raise Conflict()
        audit.append(object_type, record.id, action, record.state, record.state, actor, rule['role'], ctx.reason,
                     payload)
    obj.version = expected + 1
    return payload
