"""Recording evidence for a stage requirement: text and attachments, audited, locked while under review."""
import hashlib
import os
import re
import unicodedata

from models import Attachment, Evidence, Requirement
from workflows.rules import LEADER

from engine.errors import BadInput, InvalidTransition, NotFound
from engine.door.runtime import edit_content

EDITABLE_STATES = ('in_progress', 'stage_returned')
EDITABLE_STATUSES = ('draft', 'returned')
MAX_TEXT = 20000
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    '.pdf': 'application/pdf', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png',
    '.txt': 'text/plain', '.doc': 'application/msword',
    '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    '.xls': 'application/vnd.ms-excel',
    '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    '.ppt': 'application/vnd.ms-powerpoint',
    '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
}


def upload_dir():
    return os.environ.get('CHUANGZHENG_UPLOADS', os.path.join('instance', 'uploads'))


# "/" and "\" and the characters that look like them (fraction, division and fullwidth slashes, big solidus)
SLASHES = re.compile('[/\\\\\u2044\u2215\u29f8\u29f9\uff0f\uff3c]')
MAX_NAME = 200


def safe_filename(name):
    """Keep the last path component and drop what could escape a folder, split a header or mislead a reader:
    control and format characters (NUL, DEL, bidi overrides such as "gpj.exe\u202e.pdf", zero-width ones),
    quotes and the characters Windows forbids. Long names are shortened keeping their extension. The name is
    only ever shown and offered as the download name: the file itself is stored under its SHA-256."""
    name = SLASHES.split(name or '')[-1]
    name = ''.join(ch for ch in name if unicodedata.category(ch) not in ('Cc', 'Cf', 'Cs', 'Zl', 'Zp')
                   and ch not in '"<>|:*?').strip(' .')
    if not name:
        raise BadInput('文件名无效 (invalid file name)')
    stem, ext = os.path.splitext(name)
    if len(ext) > 10:
        stem, ext = name, ''
    return stem[:MAX_NAME - len(ext)].rstrip(' .') + ext if len(name) > MAX_NAME else name


def check_upload(filename, data):
    filename = safe_filename(filename)
    ext = os.path.splitext(filename)[1].lower()
    if ext not in ALLOWED_TYPES:
        raise BadInput(f'不支持的文件类型 {ext or "(无扩展名)"}；允许：{", ".join(sorted(ALLOWED_TYPES))}',
                       {'allowed': sorted(ALLOWED_TYPES)})
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f'文件过大，最大 {MAX_FILE_BYTES // (1024 * 1024)} MB (file too large)')
    if not data:
        raise BadInput('文件为空 (empty file)')
    return filename, ALLOWED_TYPES[ext]


def store_blob(data):
    """Content-addressed storage: the file's name on disk is its SHA-256, never the user's name."""
    digest = hashlib.sha256(data).hexdigest()
    folder = upload_dir()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, digest)
    if not os.path.exists(path):
        tmp = f'{path}.{os.getpid()}.tmp'
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    return digest


def record_evidence(participation, requirement_id, actor, *, text=None, add_files=(), remove_attachment_ids=(),
                    expected_version=None):
    """Set the text and/or add or remove attachments of one requirement's evidence (team leader only)."""
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT or '\x00' in text):
        raise BadInput(f'说明文字应为不超过{MAX_TEXT}字的文本 (text too long or not text)')
    files = [(check_upload(name, data), data) for name, data in add_files]

    def apply(record, ctx):
        requirement = Requirement.get_or_none(Requirement.id == requirement_id,
                                              Requirement.campaign == record.campaign_id,
                                              Requirement.stage == record.stage, Requirement.active == True)  # noqa
        if requirement is None:
            raise NotFound('该要求不属于本班组当前阶段 (requirement not in the current stage)')
        if record.state not in EDITABLE_STATES:
            raise InvalidTransition('审核期间佐证材料已锁定，不能修改 (evidence is locked while under review)')
        evidence, _ = Evidence.get_or_create(participation=record, requirement=requirement)
        if evidence.status not in EDITABLE_STATUSES:
            raise InvalidTransition('该项已验收或在审核中，不能修改 (this item is accepted or under review)')
        return _apply(evidence, actor, ctx.now, text, files, remove_attachment_ids)

    return edit_content(participation, 'edit_evidence', actor, [LEADER], apply, expected_version=expected_version,
                        denied='只有本班组班组长可以填写佐证材料 (only the team leader may edit evidence)')


def _apply(evidence, actor, now, text, files, remove_ids):
    changes = {'evidence_id': evidence.id, 'requirement_id': evidence.requirement_id}
    if text is not None:
        evidence.text = text
        changes['text_sha256'] = hashlib.sha256(text.encode('utf-8')).hexdigest()
    removed = list(Attachment.select().where(Attachment.evidence == evidence, Attachment.id.in_(list(remove_ids))))
    if len(removed) != len(set(remove_ids)):
        raise NotFound('要删除的附件不存在 (attachment not found)')
    for attachment in removed:
        attachment.delete_instance()
    added = []
    for (filename, content_type), data in files:
        digest = store_blob(data)
        Attachment.create(evidence=evidence, filename=filename, content_type=content_type, size=len(data),
                          sha256=digest, uploaded_at=now, uploaded_by=actor)
        added.append({'filename': filename, 'sha256': digest, 'size': len(data)})
    if added:
        changes['added'] = added
    if removed:
        changes['removed'] = [{'id': a.id, 'sha256': a.sha256} for a in removed]
    evidence.updated_at, evidence.updated_by = now, actor
    evidence.save()
    return changes
