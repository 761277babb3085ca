"""One error envelope for every failure of the JSON API: {"error": code, "message": text, "details": {...}}.

The UI's error pages stay as they are: the handlers installed here answer in JSON for paths under the API's
prefix (including unknown paths and methods there) and hand every other request to the UI's handler."""
import logging
import re

from flask import current_app, jsonify, request
from marshmallow import Schema, fields
from peewee import DataError
from werkzeug.exceptions import HTTPException

from engine import EngineError, GuardFailed, NotAuthenticated, Throttled

from ..errors import in_language
from ..logging_setup import log_refusal, log_refused_request

log = logging.getLogger('chuangzheng.api')

CODES = {400: 'bad_request', 401: 'not_authenticated', 403: 'not_permitted', 404: 'not_found',
         405: 'method_not_allowed', 406: 'not_acceptable', 409: 'conflict', 413: 'too_large',
         415: 'unsupported_media_type', 422: 'bad_input', 429: 'throttled',
         500: 'internal_error'}
MESSAGES = {
    400: '请求格式有误 (bad request)',
    404: '资源不存在 (not found)',
    405: '不支持此请求方法 (method not allowed)',
    413: '请求内容过大 (request too large)',
    415: '不支持的内容类型 (unsupported content type)',
    422: '输入有误 (invalid input)',
    500: '系统出错了，请稍后再试 (internal error)',
}


class ErrorSchema(Schema):
    """Every error answer of the API."""
    error = fields.String(required=True, metadata={'description': 'stable code, e.g. not_found, conflict, '
                                                                  'guard_failed, bad_input'})
    message = fields.String(required=True, metadata={
        'description': 'text for a person: "中文 (English)", or one language when the request\'s Accept-Language '
                       'prefers zh or en'})
    details = fields.Dict(required=True, metadata={'description': 'e.g. fields, reasons, current_version'})


def is_api_request():
    return request.path == current_app.config['API_PREFIX'] or request.path.startswith(
        current_app.config['API_PREFIX'] + '/')


def _plain(value):
    """JSON-safe details: string keys throughout (marshmallow reports list positions as int keys)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def reader_language():
    """'zh' or 'en' when the client names its language (Accept-Language), else None: bilingual, as always."""
    return request.accept_languages.best_match(['zh', 'en']) if request.accept_languages else None


def for_reader(message, by_language=None):
    """Messages are "中文 (English)"; a client that names its language gets that half only. `by_language`: the
    texts of a message that is not written bilingually ({'zh': …, 'en': …}, e.g. the failed guards)."""
    wanted = reader_language()
    if not wanted:
        return message
    if by_language:
        return by_language[wanted]
    return in_language(message, wanted)


def envelope(status, code, message, details=None, headers=None, by_language=None):
    response = jsonify({'error': code, 'message': for_reader(message, by_language),
                        'details': _plain(details or {})})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers['Cache-Control'] = 'no-store'
    return response


def engine_error(err):
    log_refusal(err)
    headers = {}
    if isinstance(err, NotAuthenticated):
        headers['WWW-Authenticate'] = 'Bearer realm="chuangzheng"'
    if isinstance(err, Throttled):
        headers['Retry-After'] = str(err.retry_after)
    by_language = None
    if isinstance(err, GuardFailed):
        by_language = {'zh': '；'.join(r.zh for r in err.reasons), 'en': '; '.join(r.en for r in err.reasons)}
    return envelope(err.status, err.code, err.message, err.details, headers, by_language)


def _validation_details(messages):
    """webargs reports {location: {field: [text]}}; one location is flattened to {location, fields}."""
    if isinstance(messages, dict) and len(messages) == 1:
        location, fields_ = next(iter(messages.items()))
        if isinstance(fields_, dict):
            return {'location': location, 'fields': fields_}
        return {'location': location, 'errors': fields_}
    return {'fields': messages}


def http_error(err):
    status = err.code or 500
    if status in (401, 403, 429):
        log_refused_request('refused' if status != 429 else 'throttled', err.description)
    data = getattr(err, 'data', None) or {}
    messages = data.get('errors') or data.get('messages')
    details = _validation_details(messages) if messages else {}
    message = data.get('message') or MESSAGES.get(status) or err.name
    if status == 400 and messages:
        message = '请求体不是有效的 JSON (malformed JSON body)'
    elif status == 422 and isinstance(details.get('fields'), dict) and details['fields']:
        message = _invalid_fields_message(details.get('location'), details['fields'])
    headers = {}
    if status == 405 and getattr(err, 'valid_methods', None):
        headers['Allow'] = ', '.join(sorted(err.valid_methods))
    if status == 401:
        headers['WWW-Authenticate'] = 'Bearer realm="chuangzheng"'
    return envelope(status, CODES.get(status, 'error'), message, details, headers)


FIELD_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_-]{0,39}')
LOCATIONS = {'json': ('请求体', 'body'), 'query': ('查询参数', 'query'), 'headers': ('请求头', 'header'),
             'files': ('上传文件', 'upload')}


def _invalid_fields_message(location, fields_):
    """Name the refused fields; a field name the client made up is counted, not repeated."""
    zh, en = LOCATIONS.get(location, ('输入', 'input'))
    if set(fields_) == {'_schema'}:
        return f'{zh}格式有误：应为 JSON 对象 ({en} must be a JSON object)'
    names = sorted(str(n) for n in fields_ if n != '_schema' and FIELD_NAME.fullmatch(str(n)))
    others = len([n for n in fields_ if n != '_schema' and not FIELD_NAME.fullmatch(str(n))])
    listed = ', '.join(names[:10]) + (' …' if len(names) > 10 else '')
    zh_parts, en_parts = ([listed], [listed]) if listed else ([], [])
    if others:
        zh_parts.append(f'{others} 个未知字段')
        en_parts.append(f'{others} unknown field(s)')
    return f'{zh}有误：{"；".join(zh_parts)} (invalid {en}: {"; ".join(en_parts)})'


def unexpected(err):
    log.exception('unexpected error in the API')
    return envelope(500, 'internal_error', MESSAGES[500])


def api_handler_for(exc_class):
    if issubclass(exc_class, EngineError):
        return engine_error
    if issubclass(exc_class, HTTPException):
        return http_error
    if issubclass(exc_class, (OverflowError, DataError)):
        return out_of_range
    return unexpected


def out_of_range(err):
    log.warning('value out of range in the API: %s', str(err)[:200])
    return envelope(422, 'bad_input', '输入的数值超出范围 (a number is out of range)')


def _wrap(app, exc_class, previous):
    """Answer API requests with this module's handler, everything else with the handler that was there."""
    api_handler = api_handler_for(exc_class)

    def handler(err):
        if is_api_request():
            return api_handler(err)
        if previous is not None:
            return previous(err)
        if isinstance(err, HTTPException):
            return err
        raise err

    app.register_error_handler(exc_class, handler)


def install(app):
    """Wrap every handler the app has (the UI's), and add ours for engine errors, HTTP errors and the rest."""
    existing = dict(app.error_handler_spec[None][None])
    for exc_class in {EngineError, HTTPException, Exception, *existing}:
        _wrap(app, exc_class, existing.get(exc_class))
    for code, handlers in list(app.error_handler_spec[None].items()):
        for exc_class, previous in list(handlers.items()) if code is not None else ():
            _wrap(app, exc_class, previous)
