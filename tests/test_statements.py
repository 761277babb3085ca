"""The hand-written statements of the transition hot path (engine/statements.py) read and write exactly what the
peewee queries they replace would."""
from engine.organisation import org
from engine.door import statements
from models import Application, Campaign, Member, Participation, RoleAssignment


def test_an_object_loads_with_the_same_fields_and_its_place(world):
    world.launch()
    participation = world.enrol()
    for record in (participation, Campaign.get_by_id(world.campaign.id)):
        model = type(record)
        loaded = statements.load_with_place(model, record.id, lock=False)
        assert loaded.__data__ == model.get_by_id(record.id).__data__
        assert not loaded.dirty_fields, 'a freshly loaded record has nothing to save'
    loaded = statements.load_with_place(Participation, participation.id, lock=True)
    assert (loaded.place_unit_id, loaded.place_branch_id, loaded.place_team_id) == (
        world.unit.id, world.b1.id, world.t1.id)
    campaign = statements.load_with_place(Campaign, world.campaign.id, lock=True)
    assert (campaign.place_unit_id, campaign.place_branch_id, campaign.place_team_id) == (world.unit.id, None, None)
    assert statements.load_with_place(Application, 999999, lock=False) is None


def test_roles_and_memberships_are_those_of_the_tables(world):
    org.add_member(world.t3, '吴干事', user=world.staff2)
    for user in (world.chair1, world.staff2, world.auditor, world.leader1, world.system):
        assignments, member_of = statements.roles_and_memberships(user.id)
        expected = sorted((a.role, a.unit_id, a.branch_id, a.team_id)
                          for a in RoleAssignment.select().where(RoleAssignment.user == user))
        assert sorted(tuple(a) for a in assignments) == expected
        assert member_of == {m.team_id for m in Member.select().where(Member.user == user)}
    assert world.t3.id in statements.roles_and_memberships(world.staff2.id)[1]


def test_the_versioned_update_changes_one_row_only_at_the_expected_version(world):
    world.launch()
    participation = world.enrol()
    assert statements.update_versioned(Participation, participation.id, participation.version + 1,
                                       {'state': 'rejected'}) == 0
    assert statements.update_versioned(Participation, participation.id, participation.version,
                                       {'state': 'in_progress', 'version': participation.version + 1}) == 1
    stored = Participation.get_by_id(participation.id)
    assert (stored.state, stored.version) == ('in_progress', participation.version + 1)
