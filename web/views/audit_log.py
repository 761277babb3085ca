"""Auditors: the global log with filters and paging, integrity status, CSV export. Strictly read-only."""
import csv
import io

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine import audit
from engine import require_auditor
from engine import BadInput
from engine import LogFilter, audit_log, user_names
from engine import KINDS

from .common import me

bp = Blueprint('audit_log', __name__)
PAGE = 50
OBJECT_TYPES = sorted(KINDS) + ['unit', 'user']


class LogQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    object_type = fields.String(validate=validate.OneOf(OBJECT_TYPES))
    object_id = fields.Integer(validate=validate.Range(min=1))
    actor = fields.String(validate=[validate.Length(max=60), validate.Regexp(r'^[^\x00]*$')])
    event = fields.String(validate=validate.Regexp(r'^[a-z_]{1,40}$'))
    since = fields.Date()
    until = fields.Date()
    before = fields.Integer(validate=validate.Range(min=1))


def parse_query():
    args = {k: v for k, v in request.args.items() if v.strip()}
    try:
        data = LogQuery().load(args)
    except ValidationError as err:
        raise BadInput(f'筛选条件有误 (invalid filter): {", ".join(sorted(err.messages))}',
                       {'fields': err.messages}) from None
    before = data.pop('before', None)
    return LogFilter(**data), before


@bp.get('/audit')
@login_required
def log():
    require_auditor(me())
    filters, before = parse_query()
    records = audit_log(filters, before, PAGE + 1)
    more = len(records) > PAGE
    records = records[:PAGE]
    args = {k: v for k, v in request.args.items() if k != 'before' and v.strip()}
    return render_template('audit_log.html', records=records, more=more, args=args, filters=filters,
                           object_types=OBJECT_TYPES, events=event_choices(),
                           names=user_names({r.actor_id for r in records if r.actor_id}))


def event_choices():
    """Every event the log can hold, with its label in the current language."""
    from ..helpers import EXTRA_EVENTS, event_label
    codes = {(name, e) for name, kind in KINDS.items() for e in kind.definition().events + [
        kind.definition().create.event]}
    choices = {e: event_label(t, e) for t, e in sorted(codes)}
    choices.update({e: event_label(None, e) for e in EXTRA_EVENTS})
    return sorted(choices.items(), key=lambda kv: kv[1])


@bp.get('/audit/integrity')
@login_required
def integrity():
    require_auditor(me())
    kept = _kept_checkpoints()
    try:
        result = audit.verify(checkpoints=kept)
    except ValueError as err:
        raise BadInput(f'检查点无效：{err} (a checkpoint is a line "SEQ:HASH" or a line written by '
                       f'`flask checkpoint`)') from None
    return render_template('audit_integrity.html', result=result, checkpoint=audit.signed_checkpoint(),
                           kept=kept, development_key=audit.uses_development_key())


MAX_CHECKPOINTS = 100


def _kept_checkpoints():
    """The checkpoints an auditor pasted, one per line (the old single `checkpoint` parameter too)."""
    text = '\n'.join(request.args.getlist('checkpoint') + request.args.getlist('checkpoints'))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#')]
    if len(lines) > MAX_CHECKPOINTS or any(len(line) > 300 for line in lines):
        raise BadInput(f'最多 {MAX_CHECKPOINTS} 个检查点，每行不超过 300 个字符 '
                       f'(at most {MAX_CHECKPOINTS} checkpoints of up to 300 characters each)')
    return lines


FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r')     # what spreadsheets may run as a formula (OWASP)


def _csv_cell(value):
    text = '' if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


@bp.get('/audit/export.csv')
@login_required
def export():
    require_auditor(me())
    filters, _ = parse_query()

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(['seq', 'occurred_at_utc', 'object_type', 'object_id', 'event', 'from_state', 'to_state',
                         'actor_id', 'actor_name', 'actor_role', 'reason', 'payload', 'hash'])
        before = None
        while True:
            batch = audit_log(filters, before, 1000)
            if not batch:
                break
            for r in batch:
                writer.writerow([_csv_cell(v) for v in (r.seq, r.occurred_at.isoformat() + 'Z', r.object_type,
                                 r.object_id, r.event, r.from_state, r.to_state, r.actor_id, r.actor_name,
                                 r.actor_role, r.reason, audit.canonical(r.payload), r.hash)])
            before = batch[-1].seq
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    return Response(stream_with_context(_with_bom(rows())), mimetype='text/csv; charset=utf-8',
                    headers={'Content-Disposition': 'attachment; filename=audit-log.csv'})


def _with_bom(chunks):
    yield '\ufeff'            # Excel opens UTF-8 CSV correctly only with a BOM
    yield from chunks
