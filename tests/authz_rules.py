"""Who may use each route of the app, in product terms (SPEC §2): the one table the authorisation matrix
(tests/test_authz_matrix.py) checks the running app against.

Every route of `app.url_map` (UI and JSON API, every method but HEAD/OPTIONS) has exactly one entry here,
keyed by (method, endpoint). A new route without an entry fails the matrix: add its rule below, in the words
of the table at the end of this docstring, and the matrix will request it as every person of the test
organisation on objects inside and outside their scope.

Over every rule but `public` and `own_account`: a route that names an object (a workflow record, a team, a
branch — in its URL or, for a new record, its team in the body) answers 404 to whoever may not see that object
(view(...) below), exactly as it answers for an object that does not exist; a refusal is 403 only for someone
who may see the object but may not do this (a secretary approving, an auditor on a union staff page), or on a
route that names no object.

    public                   anyone, signed in or not
    any_signed_in            every signed-in person (lists and inboxes then show only what view(...) allows)
    own_account              every signed-in person, on their own account; other people's tokens and sessions
                             do not exist for them (404)
    view(object)             one workflow record: the leader of its team, the chair and the party secretary
                             of its branch, union staff of its unit, auditors; while the record is in a public
                             state (an application under 公示 …) also anyone holding a role in its unit.
                             A campaign (unit-level): union staff of its unit and auditors
    view(team)               a team: its leader, its branch's chair and secretary, its unit's union staff, auditors
    view(branch)             a branch: its chair and secretary, its unit's union staff, auditors
    branch_officer           a branch chair or party secretary (the page then shows their own branch)
    team_leader_of(team)     the leader of the team the object belongs to, nobody else (not even an auditor
                             or union staff): enrol, evidence, new applications and innovation results
    union_staff              union staff of any unit (the page then works on their own unit only)
    union_staff_of(unit)     union staff of the unit the object belongs to
    auditor                  auditors only (the global audit log, its integrity, its export)
    fire(event)              the workflow definitions decide (workflows/*.py, `allowed` of each transition):
                             role + scope of the rule, a `review` never by a member of the team concerned, a
                             chair's own team routed to the party secretary (or union staff, by unit setting),
                             union staff stepping in as a recorded override; auditors never
"""

RULES = {
    # --- UI: signing in, language, health, static files -----------------------------------------------------
    ('GET', 'static'): 'public',
    ('GET', 'home.healthz'): 'public',
    ('GET', 'auth.login'): 'public',
    ('POST', 'auth.login'): 'public',
    ('POST', 'auth.language'): 'public',
    ('POST', 'auth.logout'): 'any_signed_in',
    ('GET', 'home.index'): 'any_signed_in',
    # --- UI: one's own account: sessions and API tokens --------------------------------------------------
    ('GET', 'account.index'): 'own_account',
    ('POST', 'account.end_session'): 'own_account',
    ('POST', 'account.end_other_sessions'): 'own_account',
    ('GET', 'account.tokens'): 'own_account',
    ('POST', 'account.create'): 'own_account',
    ('POST', 'account.revoke'): 'own_account',
    # --- UI: team leaders ----------------------------------------------------------------------------------
    ('GET', 'team.mine'): 'any_signed_in',
    ('GET', 'team.page'): 'view(team)',
    ('GET', 'team.attachment'): 'view(object)',
    ('POST', 'team.enrol'): 'team_leader_of(team)',
    ('POST', 'team.evidence'): 'team_leader_of(team)',
    ('POST', 'team.new_application'): 'team_leader_of(team)',
    ('POST', 'team.new_innovation'): 'team_leader_of(team)',
    # --- UI: reviewers, any object, acting on it -------------------------------------------------------------
    ('GET', 'review.inbox'): 'any_signed_in',
    ('GET', 'review.notices'): 'any_signed_in',
    ('GET', 'review.workflow_diagrams'): 'any_signed_in',
    ('GET', 'review.detail'): 'view(object)',
    ('POST', 'review.act'): 'fire(event)',
    ('POST', 'review.bulk'): 'fire(event)',
    ('GET', 'review.branches'): 'branch_officer',
    ('GET', 'review.branch'): 'view(branch)',
    # --- UI: union staff -----------------------------------------------------------------------------------
    ('GET', 'union.campaigns'): 'union_staff',
    ('GET', 'union.campaign'): 'union_staff_of(unit)',
    ('POST', 'union.edit_requirement'): 'union_staff_of(unit)',
    ('GET', 'union.evaluation'): 'union_staff_of(unit)',
    ('GET', 'union.commendations'): 'union_staff_of(unit)',
    ('POST', 'union.commendations'): 'union_staff_of(unit)',
    ('GET', 'union.export'): 'union_staff_of(unit)',
    ('GET', 'union.org_import'): 'union_staff',
    ('POST', 'union.org_import'): 'union_staff_of(unit)',       # the unit named in the imported file
    # --- UI: auditors --------------------------------------------------------------------------------------
    ('GET', 'audit_log.log'): 'auditor',
    ('GET', 'audit_log.integrity'): 'auditor',
    ('GET', 'audit_log.export'): 'auditor',
    # --- API: documents -------------------------------------------------------------------------------------
    ('GET', 'api_docs.page'): 'public',
    ('GET', 'api-docs.openapi_json'): 'public',
    # --- API: the caller and the organisation -----------------------------------------------------------------
    ('GET', 'organisation.me'): 'any_signed_in',
    ('GET', 'organisation.units'): 'any_signed_in',
    ('GET', 'organisation.branches'): 'any_signed_in',
    ('GET', 'organisation.teams'): 'any_signed_in',
    ('GET', 'organisation.team'): 'view(team)',
    ('GET', 'organisation.team_history'): 'view(team)',
    # --- API: campaigns ---------------------------------------------------------------------------------------
    ('GET', 'campaigns.campaigns'): 'any_signed_in',
    ('GET', 'campaigns.campaign'): 'view(object)',
    ('GET', 'campaigns.progress'): 'view(object)',
    ('POST', 'campaigns.new_requirement'): 'union_staff_of(unit)',
    ('PATCH', 'campaigns.edit_requirement'): 'union_staff_of(unit)',
    ('POST', 'campaigns.new_decision'): 'union_staff_of(unit)',
    # --- API: team records --------------------------------------------------------------------------------
    ('GET', 'participations.listing'): 'any_signed_in',
    ('GET', 'participations.one'): 'view(object)',
    ('POST', 'participations.create'): 'team_leader_of(team)',
    ('GET', 'applications.listing'): 'any_signed_in',
    ('GET', 'applications.one'): 'view(object)',
    ('POST', 'applications.create'): 'team_leader_of(team)',
    ('GET', 'innovations.listing'): 'any_signed_in',
    ('GET', 'innovations.one'): 'view(object)',
    ('POST', 'innovations.create'): 'team_leader_of(team)',
    # --- API: evidence --------------------------------------------------------------------------------------
    ('GET', 'evidence.item'): 'view(object)',
    ('PUT', 'evidence.edit'): 'team_leader_of(team)',
    ('POST', 'evidence.upload'): 'team_leader_of(team)',
    ('GET', 'evidence.attachment'): 'view(object)',
    # --- API: any object, acting on it, the inbox, the audit log ------------------------------------------------
    ('GET', 'objects.one'): 'view(object)',
    ('GET', 'objects.history'): 'view(object)',
    ('GET', 'objects.actions'): 'view(object)',
    ('POST', 'objects.fire'): 'fire(event)',
    ('GET', 'inbox.inbox'): 'any_signed_in',
    ('GET', 'audit.log'): 'auditor',
    ('GET', 'audit.integrity'): 'auditor',
}

RULE_NAMES = ('public', 'any_signed_in', 'own_account', 'view(object)', 'view(team)', 'view(branch)',
              'branch_officer', 'team_leader_of(team)', 'union_staff', 'union_staff_of(unit)', 'auditor',
              'fire(event)')
