"""Who may fire an event: permission rules shared by the workflow definitions.

A rule names a role and the organisational scope it must hold over the object ('team', 'branch',
'unit' or 'global'), optionally a named condition (`when`) and whether acting under it is an
override that must carry a reason. An event with no rule can be fired by nobody."""

LEADER = {'role': 'team_leader', 'scope': 'team'}
CHAIR = {'role': 'branch_chair', 'scope': 'branch'}
SECRETARY = {'role': 'party_secretary', 'scope': 'branch'}
UNION = {'role': 'union_staff', 'scope': 'unit'}
UNION_OVERRIDE = {'role': 'union_staff', 'scope': 'unit', 'override': True}
ANYONE_IN_UNIT = {'role': '*', 'scope': 'unit'}
SYSTEM = {'role': 'system', 'scope': 'global'}

# A branch-level review: the chair, except for a chair's own team, which the unit routes to the
# party secretary or to union staff; union staff may also step in with a recorded reason.
BRANCH_REVIEW = [
    {**CHAIR, 'when': 'is_not_chairs_own_team'},
    {**SECRETARY, 'when': 'is_routed_to_secretary'},
    {**UNION, 'when': 'is_routed_to_union'},
    UNION_OVERRIDE,
]

SCOPES = ('team', 'branch', 'unit', 'global')

# Who may read an object (its page, evidence and history): its team, its branch's chair and secretary,
# its unit's union staff, and auditors everywhere.
VIEW = [LEADER, CHAIR, SECRETARY, UNION, {'role': 'auditor', 'scope': 'global'}]
# …and while a record is in one of its workflow's public states, everyone in its unit.
PUBLIC_VIEW = [ANYONE_IN_UNIT]

# Reading the global audit log, checking its integrity and exporting it.
AUDIT_LOG = [{'role': 'auditor', 'scope': 'global'}]
