"""Moving running records to a newer workflow definition: explicit, one audited record per object."""
import workflows
from models import database

from engine.chain import audit
from engine import clock
from engine.errors import BadInput
from engine.organisation.org import system_user
from engine.door.kinds import KINDS
from engine.door.runtime import for_update


def migrate_records(object_type, to_version, *, state_map=None, reason):
    """Move every record of `object_type` on an older definition to `to_version`, renaming states by
    `state_map` (old → new). Refuses, changing nothing, if a state would not exist in the new version.
    An administrator's step, run from the command line; the audit names the system as the actor."""
    if object_type not in KINDS:
        raise BadInput(f'unknown object type {object_type!r}')
    model, workflow_name = KINDS[object_type].model, KINDS[object_type].workflow
    if (workflow_name, to_version) not in workflows.DEFINITIONS:
        raise BadInput(f'no definition {workflow_name} v{to_version}')
    if not (reason or '').strip():
        raise BadInput('迁移需要填写理由 (a migration needs a reason)')
    target = workflows.get(workflow_name, to_version)
    state_map = state_map or {}
    actor = system_user()
    moved = 0
    with database.atomic():
        # locked (PostgreSQL): a concurrent fire either finished before or waits — its change is not overwritten
        records = list(for_update(model.select().where(model.workflow_version != to_version).order_by(model.id)))
        for record in records:
            new_state = state_map.get(record.state, record.state)
            if new_state not in target.state_names:
                raise BadInput(f'{object_type} #{record.id}: state {record.state!r} has no place in v{to_version}; '
                               f'map it with state_map')
            model.update(state=new_state, workflow_version=to_version, version=record.version + 1,
                         updated_at=clock.now()).where(model.id == record.id).execute()
            audit.append(object_type, record.id, 'migrate_workflow', record.state, new_state, actor, 'system',
                         reason.strip(),
                         {'from_version': record.workflow_version, 'to_version': to_version})
            moved += 1
    return moved
