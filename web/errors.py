"""Every refusal becomes a clear page or message: engine errors, missing pages, CSRF failures — never a
stack trace."""
import logging
import re

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from peewee import DataError
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, EngineError, GuardFailed

from .helpers import lang

log = logging.getLogger('chuangzheng.web')

TITLES = {400: '请求有误', 401: '请先登录', 403: '无权访问', 404: '页面不存在', 405: '不支持的操作',
          409: '操作未完成', 413: '上传内容过大', 422: '输入有误', 429: '操作过于频繁', 500: '系统出错了'}


def error_page(status, message):
    return render_template('error.html', status=status, title=_(TITLES.get(status, '出错了')),
                           message=message), status


def back_to_form(message):
    """After a refused form post: show the reason on the page the person came from."""
    flash(message, 'error')
    target = request.form.get('back') or request.referrer
    if target and target.startswith(request.host_url):
        target = target[len(request.host_url) - 1:]
    if target and target.startswith('/') and not target.startswith('//'):
        return redirect(target, 303)
    return None


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
        if err.code == 413:
            return error_page(413, _('上传的文件过大。'))
        if err.code in (404, 405, 500) or err.code not in TITLES:
            return error_page(err.code, _(TITLES.get(err.code, '出错了')))
        return error_page(err.code, in_language(err.description, lang()))

    @app.errorhandler(Exception)
    def unexpected(err):
        log.exception('unexpected error')
        return error_page(500, _('系统出错了，请稍后再试；若一直出现请联系管理员。'))
