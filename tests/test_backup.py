"""Backup → restore round-trips with the audit chain intact and the same counts, on SQLite and PostgreSQL."""
import os

import pytest

from web import create_app

from conftest import World, _url


@pytest.fixture
def cli_on_test_db(db, tmp_path):
    world = World()
    world.launch()
    world.enrol()
    app = create_app({'DATABASE_URL': _url(tmp_path)})
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=list(args))
        assert 'Traceback' not in result.output, result.output
        return result
    run.world = world
    return run


def test_backup_and_restore_round_trip(cli_on_test_db, tmp_path):
    target = str(tmp_path / 'backup.dump')
    made = cli_on_test_db('backup', target)
    assert made.exit_code == 0, made.output
    assert os.path.getsize(target) > 0
    before = made.output.split('backup written to ')[1].split(', checkpoint')[0].split(': ', 1)[1]
    signed = made.output.strip().rsplit('checkpoint ', 1)[1]
    checkpoint = signed.split()[0]

    from models import AuditRecord, Participation, database
    with database.atomic():                      # the world moves on after the backup …
        Participation.delete().execute()
    refused = cli_on_test_db('restore', target)
    assert refused.exit_code != 0 and '--force' in refused.output and Participation.select().count() == 0

    restored = cli_on_test_db('restore', target, '--force', '--checkpoint', signed)
    assert restored.exit_code == 0, restored.output
    assert before in restored.output and 'audit chain intact' in restored.output
    assert f'checkpoint {checkpoint}' in restored.output
    assert Participation.select().count() == 1 and AuditRecord.select().count() > 0


def test_backup_refuses_to_overwrite_and_bad_restore_is_clear(cli_on_test_db, tmp_path):
    target = tmp_path / 'exists.dump'
    target.write_bytes(b'x')
    assert 'target exists' in cli_on_test_db('backup', str(target)).output
    assert 'not found' in cli_on_test_db('restore', str(tmp_path / 'missing.dump'), '--force').output
    result = cli_on_test_db('restore', str(target), '--force')
    assert result.exit_code != 0
