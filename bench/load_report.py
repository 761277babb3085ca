"""The load run's summary: requests, rate, per-endpoint counts and latencies, refusals by status and kind,
5xx, decisions accepted against audit records, data lost — as a dict (written as JSON) and as a text table."""
import statistics
from collections import Counter, defaultdict

LOGIN_ENDPOINTS = ('GET /login', 'POST /login')


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def _median(values):
    return round(statistics.median(values), 1) if values else 0.0


def summarize(tallies, elapsed, check, meta):
    ms, statuses, refused, samples = defaultdict(list), defaultdict(Counter), Counter(), {}
    for tally in tallies:
        for endpoint, values in tally.ms.items():
            ms[endpoint] += values
        for endpoint, counts in tally.statuses.items():
            statuses[endpoint].update(counts)
        refused.update(tally.refused)
        samples.update({k: v for k, v in tally.refusal_samples.items() if k not in samples})
    endpoints = {name: {'count': len(values), 'median_ms': round(statistics.median(values), 1),
                        'p95_ms': round(percentile(values, 95), 1), 'max_ms': round(max(values), 1),
                        'statuses': {str(k): v for k, v in sorted(statuses[name].items())}}
                 for name, values in sorted(ms.items(), key=lambda kv: -len(kv[1]))}
    everything = [v for values in ms.values() for v in values]
    writes = [v for name, values in ms.items() if name.split()[0] in ('POST', 'PUT') and name not in LOGIN_ENDPOINTS
              for v in values]
    reads = [v for name, values in ms.items() if name.startswith('GET ') and name not in LOGIN_ENDPOINTS
             for v in values]
    work = [v for name, values in ms.items() if name not in LOGIN_ENDPOINTS for v in values]
    all_statuses = Counter()
    for counts in statuses.values():
        all_statuses.update(counts)
    server_errors = [e for t in tallies for e in t.server_errors]
    by_kind = Counter()
    for tally in tallies:
        by_kind[tally.kind] += sum(tally.accepted.values())
    return {
        **meta,
        'elapsed_s': round(elapsed, 1),
        'requests': len(everything),
        'requests_after_login': len(work),
        'requests_per_s': round(len(work) / elapsed, 1) if elapsed else 0,
        'median_ms': _median(work),
        'p95_ms': round(percentile(work, 95), 1),
        'p99_ms': round(percentile(work, 99), 1),
        'reads': {'count': len(reads), 'median_ms': _median(reads), 'p95_ms': round(percentile(reads, 95), 1)},
        'writes': {'count': len(writes), 'median_ms': _median(writes), 'p95_ms': round(percentile(writes, 95), 1)},
        'status': {str(k): v for k, v in sorted(all_statuses.items())},
        '4xx_by_code': {str(k): v for k, v in sorted(all_statuses.items()) if 400 <= k < 500},
        '5xx': sum(v for k, v in all_statuses.items() if k >= 500),
        '5xx_samples': server_errors[:5],
        'refusals': dict(sorted(refused.items())),
        'refusal_samples': dict(sorted(samples.items())),
        'client_cpu_s': round(sum(t.cpu_s for t in tallies), 1),
        'transport_errors': sum(len(t.transport_errors) for t in tallies),
        'transport_error_samples': [e for t in tallies for e in t.transport_errors][:5],
        'client_errors': [e for t in tallies for e in t.client_errors][:5],
        'endpoints': endpoints,
        **check,
        'decisions_accepted_total': sum(check['decisions_accepted'].values()),
        'decisions_by_kind': dict(sorted(by_kind.items())),
        'server_cpu_ms_per_request': round(meta['server_cpu_s'] * 1000 / len(work), 1) if work else 0,
    }


def timeline(tallies, started, elapsed, bucket=10):
    """Requests answered and decisions accepted in each `bucket` seconds of the run: is the pace steady?"""
    buckets = [{'from_s': b * bucket, 'requests': 0, 'decisions': 0} for b in range(int(elapsed // bucket) + 1)]
    for tally in tallies:
        for key, times in (('requests', tally.sent_at), ('decisions', tally.accepted_at)):
            for t in times:
                if t >= started:
                    buckets[min(len(buckets) - 1, int((t - started) // bucket))][key] += 1
    return buckets


def passed(summary):
    log = summary['server_log']
    return (summary['5xx'] == 0 and summary['transport_errors'] == 0 and not summary['client_errors']
            and summary['data_lost'] == 0 and summary['chain_ok'] and log['tracebacks'] == 0 and log['5xx'] == 0
            and log['requests_served'] == summary['requests'])


def render(s):
    database_cpu = (f"the database server {s['database_server_cpu_s']} s, "
                    if s['database_server_cpu_s'] is not None else '')
    lines = [f"load: {s['users']} users × {s['elapsed_s']} s on {s['database']} — gunicorn {s['workers']} workers, "
             f"{s['teams']} teams, {s['audit_records_before']} audit records before; load average {s['load_average']}",
             f"requests {s['requests']} ({s['requests_after_login']} after login, which took {s['login_phase_s']} s: "
             f"{s['requests_per_s']}/s; CPU after login: the server's workers {s['server_cpu_s']} s = "
             f"{s['server_cpu_ms_per_request']} ms per request, {database_cpu}the clients {s['client_cpu_s']} s), "
             f"median {s['median_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms",
             f"reads (GET) {s['reads']['count']}: median {s['reads']['median_ms']} ms, p95 {s['reads']['p95_ms']} ms; "
             f"writes (POST/PUT) {s['writes']['count']}: median {s['writes']['median_ms']} ms, "
             f"p95 {s['writes']['p95_ms']} ms",
             '', f"{'endpoint':52} {'count':>6} {'median':>8} {'p95':>8}  statuses"]
    for name, e in s['endpoints'].items():
        codes = ' '.join(f'{k}×{v}' for k, v in e['statuses'].items())
        lines.append(f"{name:52} {e['count']:>6} {e['median_ms']:>6.0f}ms {e['p95_ms']:>6.0f}ms  {codes}")
    lines += ['', f"4xx by code: {s['4xx_by_code'] or 'none'}", f"refusals: {s['refusals'] or 'none'}",
              *[f'  {k}: {v}' for k, v in s['refusal_samples'].items()],
              f"5xx: {s['5xx']}   transport errors: {s['transport_errors']}   client errors: {len(s['client_errors'])}"
              f"   server log: {s['server_log']}", '',
              f"{'event':24} {'accepted':>9} {'audited':>8}"]
    for event in sorted(set(s['decisions_accepted']) | set(s['audit_records'])):
        lines.append(f"{event:24} {s['decisions_accepted'].get(event, 0):>9} {s['audit_records'].get(event, 0):>8}")
    lines += [f"{'total':24} {s['decisions_accepted_total']:>9} {s['audit_records_total']:>8}",
              f"decisions by who: {s['decisions_by_kind']}", '',
              f"objects touched {s['objects_touched']}, evidence texts checked {s['evidence_texts_checked']}, "
              f"audit chain {'verifies' if s['chain_ok'] else 'BROKEN'} ({s['chain_checked']} records)",
              f"data lost = {s['data_lost']}"]
    lines.append('pace per 10 s (requests/decisions): ' + ', '.join(f"{b['requests']}/{b['decisions']}"
                                                                   for b in s['per_10_s']))
    lines += [f'  ! {p}' for p in s['problems'][:20]] + [f'    {d}' for d in s['problem_details'][:20]]
    lines.append('PASS' if passed(s) else 'FAIL')
    return '\n'.join(lines)
