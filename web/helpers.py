"""Template helpers: labels in the current language, local times, the signed-in person's roles and counts."""
from flask import g
from flask_babel import format_datetime, get_locale
from flask_login import current_user

import workflows
from engine import KINDS
from workflows.requirements import CADENCE_LABELS
from workflows.settings import TIER_LABELS, TOPIC_LABELS
from workflows.stages import STAGE_LABELS

ROLE_LABELS = {
    'team_leader': {'zh': '班组长', 'en': 'Team leader'},
    'branch_chair': {'zh': '分会主席', 'en': 'Branch chair'},
    'party_secretary': {'zh': '支部书记', 'en': 'Party secretary'},
    'union_staff': {'zh': '处工会', 'en': 'Union staff'},
    'auditor': {'zh': '审计', 'en': 'Auditor'},
    'system': {'zh': '系统', 'en': 'System'},
}
EVIDENCE_LABELS = {
    'draft': {'zh': '待提交', 'en': 'Draft'}, 'submitted': {'zh': '审核中', 'en': 'Under review'},
    'accepted': {'zh': '已通过', 'en': 'Accepted'}, 'returned': {'zh': '需补充', 'en': 'Returned'},
}
OBJECT_LABELS = {name: kind.label for name, kind in KINDS.items()}
OBJECT_LABELS.update(unit={'zh': '单位', 'en': 'Unit'}, user={'zh': '用户', 'en': 'User'})


def lang():
    locale = get_locale()
    return 'en' if locale and locale.language == 'en' else 'zh'


def label(d):
    return (d or {}).get(lang()) or (d or {}).get('zh') or ''


def state_label(object_type, state):
    if state is None:
        return '—'
    return KINDS[object_type].definition().state_label(state, lang()) if object_type in KINDS else state


EXTRA_EVENTS = {
    'edit_evidence': {'zh': '修改佐证材料', 'en': 'Edit evidence'},
    'edit_requirement': {'zh': '修改创建要求', 'en': 'Edit requirement'},
    'add_requirement': {'zh': '新增创建要求', 'en': 'Add requirement'},
    'import_organisation': {'zh': '导入组织', 'en': 'Import organisation'},
    'create_unit': {'zh': '新建单位', 'en': 'Create unit'},
    'erase_personal_data': {'zh': '删除个人信息', 'en': 'Erase personal data'},
    'migrate_workflow': {'zh': '流程版本迁移', 'en': 'Workflow migration'},
    'create_api_token': {'zh': '新建 API 令牌', 'en': 'Create API token'},
    'revoke_api_token': {'zh': '吊销 API 令牌', 'en': 'Revoke API token'},
}


def event_label(object_type, event):
    if event in EXTRA_EVENTS:
        return label(EXTRA_EVENTS[event])
    if object_type in KINDS:
        return KINDS[object_type].definition().event_label(event, lang())
    return event


def condensed(records):
    """Runs of evidence edits by one person shown as one line ("修改佐证材料 ×5"); decisions stay as they are."""
    rows = []
    for record in records:
        last = rows[-1] if rows else None
        if (last and record.event == 'edit_evidence' and last[0].event == 'edit_evidence'
                and last[0].actor_id == record.actor_id and last[0].object_id == record.object_id
                and _integrity(record) == _integrity(last[0]) == 'intact'):
            rows[-1] = (record, last[1] + 1)
        else:
            rows.append((record, 1))
    return rows


def _integrity(record):
    return getattr(record, 'integrity', 'intact')


def colon():
    return ': ' if lang() == 'en' else '：'


def paren(text):
    return f' ({text})' if lang() == 'en' else f'（{text}）'


def cadence(code):
    return label(CADENCE_LABELS.get(code)) or code


def local_time(value, fmt='yyyy-MM-dd HH:mm'):
    return format_datetime(value, fmt) if value else '—'


def current_roles():
    if not current_user.is_authenticated:
        return set()
    if 'roles' not in g:
        g.roles = {a.role for a in current_user.user.roles}
    return g.roles


# kind → the few words that tell one of its records from another in a list (the inbox)
SUMMARIES = {'participation': lambda r: label(STAGE_LABELS[r.stage]),
             'application': lambda r: label(TIER_LABELS[r.tier]),
             'innovation': lambda r: r.title}


def summary(object_type, record):
    describe = SUMMARIES.get(object_type)
    return describe(record) if describe else ''


def inbox_count():
    if 'inbox_count' not in g:
        from engine import inbox
        g.inbox_count = len(inbox(current_user.user)) if current_user.is_authenticated else 0
    return g.inbox_count


def init_app(app):
    app.jinja_env.globals.update(
        label=label, state_label=state_label, event_label=event_label, lang=lang, current_roles=current_roles,
        inbox_count=inbox_count, cadence=cadence, colon=colon, paren=paren, TIER_LABELS=TIER_LABELS, TOPIC_LABELS=TOPIC_LABELS, STAGE_LABELS=STAGE_LABELS,
        ROLE_LABELS=ROLE_LABELS, EVIDENCE_LABELS=EVIDENCE_LABELS, OBJECT_LABELS=OBJECT_LABELS,
        STAGES=workflows.STAGES, WORKFLOW_KINDS=sorted(KINDS), summary=summary)
    app.jinja_env.filters['local'] = local_time
    app.jinja_env.filters['condensed'] = condensed

    @app.context_processor
    def _now_year():
        from engine import clock
        return {'now_year': clock.now().year}
