"""Entering a transition: the steps every transition takes once the machine has chosen it by its route —
permission for exactly this transition, then its input (reason, payload), then every guard (all failures are
reported together; an override passes the overridable ones). Run by the machine's condition (engine.door.machines)
for events and directly for the creating transition."""
from engine.errors import BadInput, GuardFailed
from engine.rules.guards import GUARDS
from engine.rules.payloads import PAYLOADS, clean_reason, load
from engine.door.permissions import authorize


def admit(transition, ctx):
    """Authorize, prepare and guard `transition` for ctx (raises the refusal); ctx.failed_guards are the guards
    passed by an override."""
    ctx.transition = transition
    authorize(transition, ctx)
    prepare(ctx, transition)
    ctx.failed_guards = check_guards(transition, ctx)


def prepare(ctx, transition):
    ctx.reason = clean_reason(ctx.requested_reason, 'reason' in transition.requires)
    if transition.payload:
        ctx.payload = load(PAYLOADS[transition.payload], ctx.requested_payload, '附加数据')
    elif ctx.requested_payload:
        raise BadInput('此操作不接受附加数据 (this event takes no payload)')
    if ctx.overriding and not ctx.reason:
        raise BadInput('代为处理需要填写理由 (acting as an override needs a reason)',
                       {'fields': {'reason': ['required for an override']}})


def check_guards(transition, ctx):
    """Every guard's failure reason, or []; raises GuardFailed unless an override passes them all."""
    failed, overridable = [], True
    for ref in transition.guards:
        reason = GUARDS[ref.name](ctx)
        if reason is not None:
            failed.append(reason)
            overridable = overridable and ref.overridable
    if not failed:
        return []
    if overridable and ctx.override:
        if not ctx.reason:
            raise BadInput('越过未达标的条件需要填写理由 (an override needs a reason)',
                           {'fields': {'reason': ['required for an override']}})
        ctx.overriding = True
        return failed
    raise GuardFailed(failed, overridable=overridable)
