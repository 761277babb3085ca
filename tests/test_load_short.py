"""Load, the short version for CI: 50 simulated users for 10 s against the production server (gunicorn, 4
workers) on loopback — on SQLite, or on the PostgreSQL database named by TEST_DATABASE_URL — with 62 teams in
the demo's unit (its history left out, to seed fast), doing what they do all day: evidence, submissions,
approvals, returns, co-signatures, bulk approval, overrides racing the chair, browsing. No 5xx; every
decision the server accepted is in the audit exactly once, every object's state is where its last audit
record left it, no lost update, the chain verifies. The long version and its figures: bench/load.py,
docs/reliability/load.md."""
import json
import os

import pytest

import engine
from bench.load import run_load
from bench.load_check import baseline, verify_run
from bench.load_http import Tally
from bench.load_report import passed, render
from conftest import set_state
from models import Requirement

pytestmark = pytest.mark.load


def test_fifty_users_at_once_get_no_server_error_and_lose_no_decision(tmp_path):
    url = os.environ.get('TEST_DATABASE_URL')
    summary = run_load('postgres' if url else 'sqlite', url, users=50, duration=10, teams_per_leader=2,
                       demo_history=False, log=lambda *_: None)
    (tmp_path / 'load.json').write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding='utf-8')
    report = render(summary)
    assert summary['users'] == 50
    assert summary['5xx'] == 0 and summary['server_log']['5xx'] == 0, report
    assert summary['transport_errors'] == 0 and not summary['client_errors'], report
    assert summary['server_log']['requests_served'] == summary['requests'], report
    assert summary['decisions_accepted'] == summary['audit_records'], report
    assert summary['decisions_accepted_total'] > 50, report          # the load did real work
    assert summary['data_lost'] == 0 and summary['problems'] == [], report
    assert summary['chain_ok'], report
    assert passed(summary), report


def test_the_check_catches_lost_phantom_and_diverging_data(world):
    """The after-run check itself: silent when clients and database agree, loud for a decision the audit lacks,
    a state changed behind the engine's back, and an evidence text that is not the last one saved."""
    world.launch()
    p = world.enrol()
    base = baseline()
    p = engine.fire(p, 'approve_enrolment', world.chair1)
    requirement = Requirement.get(Requirement.campaign == world.campaign, Requirement.stage == 'popularization')
    engine.record_evidence(p, requirement.id, world.leader1, text='第一次')
    honest = Tally()
    honest.accept('participation', p.id, 'approve_enrolment')
    honest.accept('participation', p.id, 'edit_evidence')
    honest.texts[(p.id, requirement.id)] = '第一次'
    assert verify_run(base, [honest])['data_lost'] == 0

    phantom = Tally()
    phantom.accept('participation', p.id, 'approve_enrolment', 2)
    phantom.texts[(p.id, requirement.id)] = '第二次'
    problems = verify_run(base, [phantom])['problems']
    assert any(x.startswith('approve_enrolment: clients were told 2 accepted, the audit has 1') for x in problems)
    assert any(x.startswith('edit_evidence: clients were told 0') for x in problems)
    assert any('the last text saved' in x for x in problems)

    set_state(p, 'submitted')
    assert any(f'participation #{p.id}: state submitted, last audit record says in_progress' in x
               for x in verify_run(base, [honest])['problems'])
