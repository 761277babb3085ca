"""Erasing a person's personal data on request without breaking the audit chain (it keeps only digests)."""
from models import Member, User, database

from engine.chain import audit
from engine.errors import BadInput
from engine.organisation.org import system_user


def erase_person(user, reason):
    """Blank the person's name from the history, their account and memberships; audited."""
    if not (reason or '').strip():
        raise BadInput('删除个人信息需要填写依据 (erasure needs a reason, e.g. the request reference)')
    if user.is_system:
        raise BadInput('不能删除系统用户 (cannot erase the system user)')
    with database.atomic():
        records = audit.erase_personal_data(user.id)
        User.update(display_name=f'已注销用户{user.id}', active=False, password_hash=None).where(
            User.id == user.id).execute()
        Member.update(name=f'已注销职工{user.id}', employee_no=None).where(Member.user == user).execute()
        audit.append('user', user.id, 'erase_personal_data', None, None, system_user(), 'system', reason.strip(),
                     {'records_erased': records})
    return records
