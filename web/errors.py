"""Every refusal becomes a clear page or message: engine errors, missing pages, CSRF failures — never a
stack trace."""
import logging
import re

from flask import current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from peewee import DataError
from werkzeug.exceptions import HTTPException

from engine import Conflict, EngineError, GuardFailed

from .helpers import lang
from .logging_setup import log_refusal, log_refused_request
from .security import local_path

log = logging.getLogger('chuangzheng.web')

TITLES = {400: '请求有误', 401: '请先登录', 403: '无权访问', 404: '页面不存在', 405: '不支持的操作',
          409: '操作未完成', 413: '上传内容过大', 422: '输入有误', 429: '操作过于频繁', 500: '系统出错了'}
DEFAULT_REASONS = {400: '请求的格式有误，请返回上一页刷新后重试。', 403: '您没有权限进行此操作。'}


def error_page(status, message):
    return render_template('error.html', status=status, title=_(TITLES.get(status, '出错了')),
                           message=message), status


def _size(limit):
    return f'{limit // (1024 * 1024)} MB' if limit >= 1024 * 1024 else f'{max(1, limit // 1024)} KB'


def too_large_message():
    """What was too large, and the limits: files (a multipart form) or the request as a whole."""
    from engine import MAX_FILE_BYTES
    limit = _size(request.max_content_length or current_app.config.get('MAX_CONTENT_LENGTH') or 0)
    if request.mimetype == 'multipart/form-data':
        return _('上传的文件过大：每个文件最多 %(file)s，一次提交合计最多 %(limit)s。', file=_size(MAX_FILE_BYTES),
                 limit=limit)
    return _('提交的内容过大：一次提交最多 %(limit)s。', limit=limit)


def back_to_form(message):
    """After a refused form post: show the reason on the page the person came from."""
    flash(message, 'error')
    target = request.form.get('back') or request.referrer
    if target and target.startswith(request.host_url):
        target = target[len(request.host_url) - 1:]
    target = local_path(target)
    return redirect(target, 303) if target else None


BILINGUAL = re.compile(r'\s*\(([ -~]*[A-Za-z][ -~]*?)\)')


def in_language(message, lang):
    """Engine messages read "中文 (English)": show the half in the person's language."""
    found = BILINGUAL.search(message or '')
    if not found:
        return message
    if lang == 'en':
        return found.group(1) + message[found.end():]
    return (message[:found.start()] + message[found.end():]).strip()


def localized(err):
    if isinstance(err, GuardFailed):
        return ('；' if lang() == 'zh' else '; ').join(r.text(lang()) for r in err.reasons)
    return in_language(err.message, lang())


def init_app(app):
    @app.errorhandler(EngineError)
    def engine_error(err):
        log_refusal(err)
        message = localized(err)
        if err.code == 'conflict' and err.message == Conflict().message:    # someone else changed it first
            message = _('该记录已被他人修改，请刷新页面后重试。')
        if request.method == 'POST' and err.status in (409, 422):
            response = back_to_form(message)
            if response is not None:
                return response
        return error_page(err.status, message)

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        from flask_login import current_user
        log_refused_request('csrf_failed', err.description,
                            current_user.user if current_user.is_authenticated else None)
        return error_page(400, _('页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试。'))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(err):
        # a number too large for the database (SQLite: OverflowError, PostgreSQL: integer out of range)
        log.warning('value out of range: %s', str(err)[:200])
        if any(isinstance(v, int) and abs(v) > 2 ** 31 - 1 for v in (request.view_args or {}).values()):
            return error_page(404, _(TITLES[404]))
        return error_page(422, '输入的数值超出范围 (a number is out of range)')

    @app.errorhandler(HTTPException)
    def http_error(err):
        if err.code in (401, 403, 429) and not getattr(err, 'logged', False):
            log_refused_request('refused' if err.code != 429 else 'throttled', err.description)
        if err.code == 413:
            return error_page(413, too_large_message())
        if err.code in (404, 405, 500) or err.code not in TITLES:
            return error_page(err.code, _(TITLES.get(err.code, '出错了')))
        if err.description == type(err).description:          # no reason given: Werkzeug's English default
            return error_page(err.code, _(DEFAULT_REASONS.get(err.code, TITLES[err.code])))
        return error_page(err.code, in_language(err.description, lang()))

    @app.errorhandler(Exception)
    def unexpected(err):
        log.exception('unexpected error')
        return error_page(500, _('系统出错了，请稍后再试；若一直出现请联系管理员。'))
