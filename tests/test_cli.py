"""The command line: clear one-line errors with a non-zero exit code, never a traceback."""

import pytest

from web import create_app


@pytest.fixture
def cli(tmp_path):
    app = create_app({'DATABASE_URL': f'sqlite:///{tmp_path}/cli.db'})
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=list(args))
        assert 'Traceback' not in result.output
        return result
    return run


@pytest.fixture
def ready(cli):
    from conftest import World
    assert cli('init-db').exit_code == 0
    world = World()
    world.launch()
    return world


def test_commands_need_a_database(cli):
    for args in (['verify'], ['checkpoint'], ['tick'], ['history', 'campaign', '1']):
        result = cli(*args)
        assert result.exit_code == 1 and 'init-db' in result.output


def test_fire_drives_the_engine(cli, ready):
    part = ready.enrol()
    result = cli('fire', 'participation', str(part.id), 'approve_enrolment', '--user', 'chair1')
    assert result.exit_code == 0, result.output
    assert 'in_progress' in result.output
    history = cli('history', 'participation', str(part.id))
    assert 'enrol' in history.output and 'approve_enrolment' in history.output and '李主席' in history.output


@pytest.mark.parametrize('args,message', [
    (['fire', 'participation', '1', 'approve_enrolment', '--user', 'nobody'], "no such user: 'nobody'"),
    (['fire', 'spaceship', '1', 'launch', '--user', 'staff'], 'unknown object type'),
    (['fire', 'participation', '999', 'approve_enrolment', '--user', 'chair1'], 'not found'),
    (['fire', 'participation', 'abc', 'approve_enrolment', '--user', 'chair1'], "'abc' is not a valid integer"),
    (['fire', 'participation', '1', 'approve_enrolment', '--user', 'leader1'], 'not_permitted'),
    (['fire', 'participation', '1', 'return_enrolment', '--user', 'chair1'], 'reason'),
    (['fire', 'participation', '1', 'return_stage', '--user', 'chair1', '--reason', 'x', '--payload', '{oops'],
     'not valid JSON'),
    (['fire', 'participation', '1', 'submit_stage', '--user', 'leader1'], 'invalid_transition'),
    (['fire', 'campaign', '1', 'advance', '--user', 'staff'], 'guard_failed'),
    (['verify', '--checkpoint', 'nonsense'], 'not a checkpoint'),
    (['import-org', '/no/such/file.xlsx'], ''),
])
def test_bad_input_is_a_clear_error(cli, ready, args, message):
    ready.enrol()
    result = cli(*args)
    assert result.exit_code != 0
    assert message in result.output


def test_verify_and_checkpoint(cli, ready):
    ok = cli('verify')
    assert ok.exit_code == 0 and 'audit chain intact' in ok.output
    checkpoint = cli('checkpoint').output.strip()
    assert cli('verify', '--checkpoint', checkpoint).exit_code == 0
    from models import database
    from models import audit_guards
    audit_guards.drop_guards()
    database.execute_sql("UPDATE audit_record SET event = 'forged' WHERE seq = 2")
    broken = cli('verify')
    assert broken.exit_code == 1 and 'BROKEN at record 2' in broken.output


def test_override_from_the_command_line(cli, ready):
    result = cli('fire', 'campaign', str(ready.campaign.id), 'advance', '--user', 'staff', '--override',
                 '--reason', '按处工会会议决定推进')
    assert result.exit_code == 0 and 'consolidation' in result.output


def test_tick_closes_due_notices(cli, ready):
    from scenarios import application_in
    from models import Application
    app = application_in(ready, 'publicized', event='close_notice')
    result = cli('tick')
    assert result.exit_code == 0 and "'notices_closed': 1" in result.output
    assert Application.get_by_id(app.id).state == 'notice_closed'
    again = cli('tick')
    assert "'notices_closed': 0" in again.output


def test_set_password_rules(cli, ready):
    assert cli('set-password', 'staff', '--password', 'short').exit_code != 0
    assert cli('set-password', 'ghost', '--password', 'longenough1').exit_code != 0
    result = cli('set-password', 'staff', '--password', 'longenough1')
    assert result.exit_code == 0
    from engine.organisation.org import check_password
    from models import User
    assert check_password(User.get(User.username == 'staff'), 'longenough1')


def test_erase_person_keeps_the_chain_verifiable(cli, ready):
    from engine.chain import audit
    from models import User
    ready.enrol()
    assert cli('erase-person', 'leader1').exit_code != 0          # --reason is required
    result = cli('erase-person', 'leader1', '--reason', '本人申请 2026-11-01 第3号')
    assert result.exit_code == 0, result.output
    assert audit.verify().ok
    assert not User.get(User.username == 'leader1').active
    history = cli('history', 'participation', '1').output
    assert '张班长' not in history
    assert cli('erase-person', 'system', '--reason', 'x').exit_code == 1


def test_migrate_workflow_rejects_bad_arguments(cli, ready):
    assert 'OLD=NEW' in cli('migrate-workflow', 'participation', '1', '--map', 'oops', '--reason', 'x').output
    assert 'no definition' in cli('migrate-workflow', 'participation', '7', '--reason', 'x').output
    ok = cli('migrate-workflow', 'participation', '1', '--reason', '无变化')
    assert ok.exit_code == 0 and '0 participation' in ok.output


def test_create_from_the_command_line(cli, ready):
    import json as json_
    data = json_.dumps({'team_id': ready.t3.id, 'campaign_id': ready.campaign.id})
    result = cli('create', 'participation', '--user', 'leader3', '--data', data)
    assert result.exit_code == 0 and 'participation #1 created (requested)' in result.output
    assert 'already exists' in cli('create', 'participation', '--user', 'leader3', '--data', data).output
    assert 'not valid JSON' in cli('create', 'participation', '--user', 'leader3', '--data', '{').output
    bad = cli('create', 'participation', '--user', 'leader3', '--data', '{"team_id": "x"}')
    assert bad.exit_code == 1 and 'bad_input' in bad.output


def test_create_unit(cli, ready):
    result = cli('create-unit', 'JW', '机务处')
    assert result.exit_code == 0 and '机务处' in result.output
    assert 'already exists' in cli('create-unit', 'JW', '机务处').output
    assert cli('create-unit', 'bad code!', '名').exit_code == 1
    assert cli('create-unit', 'X1', '').exit_code == 1
    assert cli('verify').exit_code == 0
