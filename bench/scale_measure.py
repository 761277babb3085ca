"""What bench/scale.py measures: server time of the pages and queries SPEC §6 names (Flask test client, signed in
as the person who uses the page; medians over repeats), and verify() over the whole chain in a subprocess
(wall time, peak memory of the process and of its workers)."""
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BARS_MS = {'inbox': 100, 'dashboard': 100, 'history': 20}


def _timed(call, repeats, warmup=2):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {'median_ms': round(statistics.median(times), 2), 'min_ms': round(min(times), 2),
            'max_ms': round(max(times), 2), 'repeats': repeats}


def pick_people():
    """Typical people of the last unit (the rows furthest into every table), and the participation with the
    longest history."""
    from models import AuditRecord, Campaign, Participation, RoleAssignment, Team, database
    campaign = Campaign.select().order_by(Campaign.id.desc()).get()
    staff = RoleAssignment.get(RoleAssignment.role == 'union_staff', RoleAssignment.unit == campaign.unit_id).user
    chair_role = (RoleAssignment.select().where(RoleAssignment.role == 'branch_chair',
                                                RoleAssignment.unit == campaign.unit_id)
                  .order_by(RoleAssignment.branch).get())
    part_id, records = database.execute_sql(     # the longest history among the branch's ordinary teams
        "SELECT object_id, COUNT(*) FROM audit_record WHERE object_type = 'participation' AND object_id IN "
        "(SELECT p.id FROM participation p JOIN team t ON t.id = p.team_id JOIN role_assignment l "
        "ON l.team_id = t.id AND l.role = 'team_leader' WHERE t.branch_id = "
        f"{database.param} AND l.user_id != {database.param}) GROUP BY object_id ORDER BY 2 DESC LIMIT 1",
        (chair_role.branch_id, chair_role.user_id)).fetchone()
    part = Participation.get_by_id(part_id)
    leader = RoleAssignment.get(RoleAssignment.role == 'team_leader', RoleAssignment.team == part.team_id).user
    secretary = RoleAssignment.get(RoleAssignment.role == 'party_secretary',
                                   RoleAssignment.branch == chair_role.branch_id).user
    auditor = RoleAssignment.get(RoleAssignment.role == 'auditor').user
    return {'campaign': campaign, 'staff': staff, 'chair': chair_role.user, 'leader': leader,
            'secretary': secretary, 'auditor': auditor, 'branch_id': chair_role.branch_id,
            'participation': part, 'history_records': records, 'team': Team.get_by_id(part.team_id),
            'total_records': AuditRecord.select().count()}


def _signed_in(app, user):
    from web import sessions
    key = sessions.start(user, '127.0.0.1', 'scale benchmark', app.config)
    client = app.test_client()
    with client.session_transaction() as session:
        session['_user_id'] = key
        session['_fresh'] = True
    return client


def _api_token(user):
    import engine
    PREFIX_LENGTH, SECRET_PREFIX, digest = engine.tokens.PREFIX_LENGTH, engine.tokens.SECRET_PREFIX, engine.tokens.digest
    from models import ApiToken
    secret = SECRET_PREFIX + 'scale-benchmark-' + str(user.id)
    if not ApiToken.select().where(ApiToken.token_hash == digest(secret)).exists():
        ApiToken.create(user=user, name='scale bench', token_hash=digest(secret), prefix=secret[:PREFIX_LENGTH])
    return {'Authorization': f'Bearer {secret}'}


def _get(client, path, headers=None):
    def call():
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return call


def measure_pages(url, repeats):
    import web
    from engine import timeline
    app = web.create_app({'DATABASE_URL': url, 'TESTING': True, 'SECRET_KEY': 'scale-bench',
                          'API_RATE_LIMIT': 10 ** 9})
    with app.app_context():
        people = pick_people()
        chair, staff, leader, secretary, auditor = (_signed_in(app, people[k]) for k in
                                                    ('chair', 'staff', 'leader', 'secretary', 'auditor'))
        token = _api_token(people['chair'])
        inbox_items = _inbox_size(people['chair'])
        staff_inbox_items = _inbox_size(people['staff'])
    # Requests run outside that app context: inside it they would share its `g` (the signed-in user among others).
    part = people['participation']
    checks = [
        ('inbox', "branch chair's inbox /inbox", _get(chair, '/inbox')),
        ('dashboard', "union staff's dashboard /campaigns/<id>", _get(staff, f'/campaigns/{people["campaign"].id}')),
        ('team_page', "team leader's team page /teams/<id>", _get(leader, f'/teams/{part.team_id}')),
        ('history', 'engine.reads.queries.timeline (participation)', lambda: timeline('participation', part.id)),
        ('object_page', 'object page /objects/participation/<id> (chair)',
         _get(chair, f'/objects/participation/{part.id}')),
        ('api_inbox', 'API /api/v1/inbox (chair)', _get(chair, '/api/v1/inbox', token)),
        ('api_history', 'API /api/v1/objects/participation/<id>/history',
         _get(chair, f'/api/v1/objects/participation/{part.id}/history', token)),
        # beyond the bars' list: the biggest inbox, the secretary's branch overview, the auditor's log
        ('staff_inbox', "union staff's inbox /inbox (whole unit)", _get(staff, '/inbox')),
        ('branch_page', "party secretary's branch overview /branches/<id>",
         _get(secretary, f'/branches/{people["branch_id"]}')),
        ('audit_log', "auditor's log filtered by actor /audit?actor=…",
         _get(auditor, f'/audit?actor={people["chair"].username}')),
    ]
    results = {}
    for name, label, call in checks:
        results[name] = {'what': label, **_timed(call, repeats)}
        print(f'  {label}: {results[name]["median_ms"]} ms', file=sys.stderr)
    results['context'] = {'chair': people['chair'].username, 'staff': people['staff'].username,
                          'leader': people['leader'].username, 'participation_id': part.id,
                          'history_records': people['history_records'], 'audit_records': people['total_records'],
                          'inbox_items': inbox_items, 'staff_inbox_items': staff_inbox_items}
    return results


def _inbox_size(user):
    from engine import inbox
    return len(inbox(user))


VERIFY_SCRIPT = '''
import json, resource, sys, time
sys.path.insert(0, {root!r})
from models import open_database
from engine import audit
open_database({url!r})
start = time.perf_counter()
result = audit.verify()
seconds = time.perf_counter() - start
# VmHWM: this program's own peak (ru_maxrss would start from the parent's size at fork, which exec keeps).
peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))
print(json.dumps({{'ok': result.ok, 'checked': result.checked, 'problems': result.problems[:3], 'seconds': seconds,
                  'max_rss_kb': peak, 'workers_max_rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
'''


def measure_verify(url, workers=None):
    """verify() in a fresh process, as `flask verify` would run it."""
    env = dict(os.environ)
    if workers:
        env['CHUANGZHENG_VERIFY_WORKERS'] = str(workers)
    out = subprocess.run([sys.executable, '-c', VERIFY_SCRIPT.format(root=ROOT, url=url)], capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result['seconds'] = round(result['seconds'], 1)
    result['load_average'] = [round(x, 2) for x in os.getloadavg()]
    result['records_per_second'] = round(result['checked'] / result['seconds']) if result['seconds'] else None
    return result


def measure_all(url, repeats, verify_runs=3):
    print('measuring pages …', file=sys.stderr)
    results = measure_pages(url, repeats)
    if verify_runs < 1:
        return results                       # pages only (--verify-runs 0)
    print(f'verifying the whole chain ({verify_runs} runs) …', file=sys.stderr)
    runs = [measure_verify(url) for _ in range(verify_runs)]
    for run in runs:
        print(f'  verify: {run["seconds"]} s, ok={run["ok"]}, load average {run["load_average"]}', file=sys.stderr)
    median = sorted(runs, key=lambda r: r['seconds'])[len(runs) // 2]
    results['verify'] = {**median, 'runs_seconds': [r['seconds'] for r in runs],
                         'max_rss_kb': max(r['max_rss_kb'] for r in runs),
                         'workers_max_rss_kb': max(r['workers_max_rss_kb'] for r in runs)}
    return results


def print_table(report):
    results = report['results']
    print(f'\n{report["database"]}: {report["sizes"]}, load average {report["machine"]["load_average"]}')
    print(f'{"what":58} {"median ms":>10} {"min":>8} {"max":>8}  bar')
    for name, row in results.items():
        if not isinstance(row, dict) or 'median_ms' not in row:
            continue
        bar = BARS_MS.get(name) or (BARS_MS['history'] if 'history' in name or name == 'object_page' else
                                    BARS_MS['inbox'] if 'inbox' in name else None)
        verdict = '' if bar is None else (f'< {bar} ms ' + ('met' if row['median_ms'] < bar else 'NOT MET'))
        print(f'{row["what"]:58} {row["median_ms"]:>10} {row["min_ms"]:>8} {row["max_ms"]:>8}  {verdict}')
    v = results.get('verify')
    if v is not None:
        print(f'verify(): {v["checked"]} records in {v["seconds"]} s (median of {v["runs_seconds"]}; '
              f'{v["records_per_second"]}/s), ok={v["ok"]}, '
              f'peak RSS {v["max_rss_kb"] // 1024} MB (largest worker {v["workers_max_rss_kb"] // 1024} MB)  '
              f'bar < 60 s ' + ('met' if v['seconds'] < 60 else 'NOT MET'))
    print(f'context: {results["context"]}')
