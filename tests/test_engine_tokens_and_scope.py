"""Personal API tokens (stored hashed, audited, throttled) and the read scope of lists, without HTTP."""
import hashlib

import pytest

from engine.organisation import tokens
from engine.reads.access import can_view
from engine.errors import BadInput, InvalidTransition, NotAuthenticated, NotFound, Throttled
from engine.reads.scope import visible_branches, visible_campaigns, visible_records, visible_teams, visible_units
from models import ApiToken, Application, AuditRecord, Branch, InnovationResult, Participation, Team, Unit, User

from scenarios import application_in, innovation_in, participation_in


def test_a_token_is_stored_as_a_hash_and_its_creation_audited(world):
    token, secret = tokens.create_token(world.leader1, ' 报表工具 ')
    assert secret.startswith('cz_') and len(secret) > 40 and token.name == '报表工具'
    row = ApiToken.get_by_id(token.id)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and row.prefix == secret[:9]
    assert secret not in str(row.__data__)
    record = AuditRecord.select().order_by(AuditRecord.seq.desc()).first()
    assert (record.object_type, record.object_id, record.event) == ('user', world.leader1.id, 'create_api_token')
    assert record.payload == {'token_id': token.id, 'prefix': token.prefix}
    assert tokens.authenticate(secret).user_id == world.leader1.id


@pytest.mark.parametrize('name', ['', '   ', 'x' * 61, 'tab\there', None, 5, 'c1\x85name', 'gpj\u202eexe.jpg'])
def test_a_token_needs_a_sensible_name(world, name):
    with pytest.raises(BadInput):
        tokens.create_token(world.leader1, name)


def test_active_tokens_are_limited(world, monkeypatch):
    monkeypatch.setattr(tokens, 'MAX_ACTIVE_TOKENS', 2)
    first = tokens.create_token(world.leader1, 'a')[0]
    tokens.create_token(world.leader1, 'b')
    with pytest.raises(BadInput):
        tokens.create_token(world.leader1, 'c')
    tokens.revoke_token(world.leader1, first.id)
    tokens.create_token(world.leader1, 'c')


def test_revoking(world):
    token, secret = tokens.create_token(world.leader1, 'a')
    with pytest.raises(NotFound):
        tokens.revoke_token(world.chair1, token.id)           # only one's own
    tokens.revoke_token(world.leader1, token.id)
    with pytest.raises(InvalidTransition):
        tokens.revoke_token(world.leader1, token.id)
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(secret)
    assert [r.event for r in AuditRecord.select().where(AuditRecord.object_type == 'user')
            .order_by(AuditRecord.seq)] == ['create_api_token', 'revoke_api_token']
    assert tokens.tokens_of(world.leader1)[0].revoked_at is not None


@pytest.mark.parametrize('secret', [None, '', 'cz_unknown', 'é' * 10, 'x' * 201])
def test_unknown_secrets_are_refused(world, secret):
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(secret)


def test_tokens_of_inactive_and_system_users_are_refused(world):
    secret = tokens.create_token(world.chair1, 'a')[1]
    User.update(active=False).where(User.id == world.chair1.id).execute()
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(secret)
    system_secret = tokens.create_token(world.system, 'a')[1]
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(system_secret)


def test_requests_are_counted_in_fixed_windows(world, monkeypatch):
    token = tokens.create_token(world.leader1, 'a')[0]
    now = [1_000_000.0]
    monkeypatch.setattr(tokens.time, 'time', lambda: now[0])
    assert [tokens.count_request(token, 3, 60) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(Throttled) as refused:
        tokens.count_request(token, 3, 60)
    assert 1 <= refused.value.retry_after <= 60
    now[0] += 60                                              # the next window starts afresh
    assert tokens.count_request(token, 3, 60) == 1
    assert ApiToken.get_by_id(token.id).last_used_at is not None


# --- lists show exactly what the detail pages would show (records in no public state) -----------------------

READERS = ('leader1', 'chair1', 'secretary1', 'leader3', 'chair2', 'secretary2', 'staff', 'auditor', 'other_leader',
           'other_staff')


@pytest.fixture
def everything(world):
    participation_in(world, 'submitted', team=world.t3, leader=world.leader3)
    application_in(world, 'recommended')
    innovation_in(world, 'draft', team=world.t2, leader=world.chair1)
    return world


@pytest.mark.parametrize('username', READERS)
def test_lists_agree_with_can_view(everything, username):
    actor = User.get(User.username == username)
    for model, listed in ((Team, visible_teams(actor)), (Branch, visible_branches(actor)),
                          (Unit, visible_units(actor)), (Participation, visible_records(actor, Participation)),
                          (Application, visible_records(actor, Application)),
                          (InnovationResult, visible_records(actor, InnovationResult))):
        expected = {row.id for row in model.select() if can_view(actor, row)}
        assert {row.id for row in listed} == expected, (username, model.__name__)
    campaigns = {c.id for c in visible_campaigns(actor)}
    assert campaigns == {c.id for c in everything.campaign.__class__.select() if can_view(actor, c)}


def test_an_inactive_person_sees_nothing(everything):
    User.update(active=False).where(User.id == everything.staff.id).execute()
    staff = User.get_by_id(everything.staff.id)
    assert list(visible_teams(staff)) == [] and list(visible_records(staff, Participation)) == []
