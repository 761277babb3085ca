"""Restore never trades good data for a bad backup: the backup is verified in a scratch copy (against kept
checkpoints when given) before it replaces anything, the restored database gets its guards back, and the
command line answers a missing database or a locked one in one line (SQLite and PostgreSQL)."""
import sqlite3

import pytest

import engine
from engine.chain import audit
from models import AuditHead, AuditRecord, Campaign, audit_guards, database

from conftest import _url
from test_backup import cli_on_test_db  # noqa: F401 — the same CLI on the test database
from web import create_app


@pytest.fixture
def cli(cli_on_test_db):
    return cli_on_test_db


def backup(cli, tmp_path, name):
    target = str(tmp_path / name)
    made = cli('backup', target)
    assert made.exit_code == 0, made.output
    return target, made.output.strip().rsplit('checkpoint ', 1)[1]


def state_of_live_database():
    return AuditRecord.select().count(), AuditHead.get().hash, audit.verify().ok


def test_a_tampered_backup_is_refused_before_the_good_database_is_touched(cli, tmp_path):
    audit_guards.drop_guards()
    database.execute_sql("UPDATE audit_record SET event = 'forged' WHERE seq = 2")
    tampered, _ = backup(cli, tmp_path, 'tampered.dump')
    database.execute_sql("UPDATE audit_record SET event = 'launch' WHERE seq = 2")   # the live one is mended
    audit_guards.install_guards()
    good = state_of_live_database()
    assert good[2]
    refused = cli('restore', tampered, '--force')
    assert refused.exit_code == 1 and 'nothing was restored' in refused.output and 'record 2' in refused.output
    assert state_of_live_database() == good


def test_a_backup_with_its_tail_cut_and_head_rewound_is_caught_by_the_kept_checkpoint(cli, tmp_path):
    _, kept = backup(cli, tmp_path, 'full.dump')
    count = AuditRecord.select().count()
    audit_guards.drop_guards()                      # an attacker cuts the last two records and rewinds the head
    last_kept = AuditRecord.get(AuditRecord.seq == count - 2)
    database.execute_sql(f'DELETE FROM audit_personal WHERE seq > {count - 2}')
    database.execute_sql(f'DELETE FROM audit_record WHERE seq > {count - 2}')
    AuditHead.update(seq=last_kept.seq, hash=last_kept.hash).execute()
    cut, _ = backup(cli, tmp_path, 'cut.dump')
    refused = cli('restore', cut, '--force', '--checkpoint', kept)
    assert refused.exit_code == 1 and 'cut off the end' in refused.output and 'nothing was restored' in refused.output
    checkpoints = tmp_path / 'checkpoints.txt'
    checkpoints.write_text(f'# kept by the auditor\n{kept}\n', encoding='utf-8')
    refused = cli('restore', cut, '--force', '--checkpoints', str(checkpoints))
    assert refused.exit_code == 1 and 'cut off the end' in refused.output
    unchecked = cli('restore', cut, '--force')      # without a checkpoint it cannot be told: said so
    assert unchecked.exit_code == 0 and 'no kept checkpoint given' in unchecked.output


def test_restore_puts_the_guards_back(cli, tmp_path):
    audit_guards.drop_guards()
    unguarded, kept = backup(cli, tmp_path, 'unguarded.dump')
    assert audit.verify().guard_problems
    restored = cli('restore', unguarded, '--force', '--checkpoint', kept)
    assert restored.exit_code == 0, restored.output
    assert audit_guards.problems() == [] and audit.verify().ok


def test_verify_reports_missing_guards_on_the_command_line(cli):
    assert cli('verify').exit_code == 0
    audit_guards.drop_guards()
    result = cli('verify')
    assert result.exit_code == 1 and 'database guards are missing' in result.output
    assert 'audit_record_no_update' in result.output or 'audit_record_append_only' in result.output


def test_checkpoint_file_kept_by_the_auditor(cli, tmp_path):
    kept = tmp_path / 'kept' / 'checkpoints.txt'
    kept.parent.mkdir()
    first = cli('checkpoint', '--append', str(kept))
    assert first.exit_code == 0 and ' sig=' in first.output
    world = cli.world
    engine.fire(Campaign.get_by_id(world.campaign.id), 'advance', world.staff, reason='按会议决定', override=True)
    assert cli('checkpoint', '--append', str(kept)).exit_code == 0
    lines = kept.read_text(encoding='utf-8').splitlines()
    assert len(lines) == 2 and lines[0] == first.output.strip()
    ok = cli('verify', '--checkpoints', str(kept))
    assert ok.exit_code == 0 and '2 checkpoint(s) matched' in ok.output
    kept.write_text(lines[0] + '\n' + lines[1].replace(' sig=', ' sig=0'), encoding='utf-8')
    bad = cli('verify', '--checkpoints', str(kept))
    assert bad.exit_code == 1 and 'line 2' in bad.output
    assert 'cannot read' in cli('verify', '--checkpoints', str(tmp_path / 'missing.txt')).output
    assert cli('checkpoint', '--append', str(tmp_path)).exit_code != 0             # a folder, not a file


@pytest.mark.skipif('not __import__("models").is_sqlite()', reason='the SQLite write lock')
def test_a_second_writer_meeting_a_locked_database_gets_one_line(cli, tmp_path, monkeypatch):
    from models import db as models_db
    monkeypatch.setitem(models_db.SQLITE_PRAGMAS, 'busy_timeout', 50)
    app = create_app({'DATABASE_URL': _url(tmp_path)})
    holder = sqlite3.connect(str(tmp_path / 'test.db'))
    holder.execute('BEGIN IMMEDIATE')
    try:
        result = app.test_cli_runner().invoke(args=['fire', 'campaign', str(cli.world.campaign.id), 'advance',
                                                    '--user', 'staff', '--override', '--reason', '推进'])
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1 and 'Traceback' not in result.output
    assert 'locked by another writer' in result.output


@pytest.mark.skipif('__import__("models").is_sqlite()', reason='a PostgreSQL server')
def test_restore_into_a_database_that_does_not_exist_is_one_line(cli, tmp_path):
    target, _ = backup(cli, tmp_path, 'b.dump')
    url = _url(tmp_path).rsplit('/', 1)[0] + '/no_such_database_here'
    app = create_app({'DATABASE_URL': url})
    result = app.test_cli_runner().invoke(args=['restore', target, '--force'])
    assert result.exit_code == 1 and 'Traceback' not in result.output
    assert 'does not exist' in result.output and len(result.output.strip().splitlines()) == 1
    verify = app.test_cli_runner().invoke(args=['verify'])
    assert verify.exit_code == 1 and 'does not exist' in verify.output
