"""Who is calling: an `Authorization: Bearer <token>` header and nothing else (never the session cookie, so
the API needs no CSRF token), counted against the token's request limit; plus the body rules every API
request obeys (JSON bodies, at most 1 MB, except file uploads)."""
import json

from flask import current_app, g, request

from engine import tokens

from .errors import envelope

JSON_LIMIT = 1024 * 1024
MAX_DEPTH = 20
UPLOAD_ENDPOINTS = {'evidence.upload'}


def bearer_secret():
    scheme, _, value = request.headers.get('Authorization', '').partition(' ')
    return value.strip() if scheme.lower() == 'bearer' else None


def authenticate():
    """before_request of every API blueprint: the caller's token, or 401; then throttling (429)."""
    token = tokens.authenticate(bearer_secret())
    g.api_token = token
    g.api_actor = token.user          # known from here on, also to the log of a throttled request
    tokens.count_request(token, current_app.config['API_RATE_LIMIT'], current_app.config['API_RATE_WINDOW'])
    return check_body()


def actor():
    return g.api_actor


def _has_body():
    return bool(request.content_length) or 'chunked' in request.headers.get('Transfer-Encoding', '').lower()


def check_body():
    """A body must be JSON (multipart for uploads); anything else is 415. JSON is limited to 1 MB (413)."""
    if request.method not in ('POST', 'PUT', 'PATCH') or not _has_body():
        return None
    mimetype = request.mimetype or ''
    if request.endpoint in UPLOAD_ENDPOINTS:
        if mimetype != 'multipart/form-data':
            return envelope(415, 'unsupported_media_type', '上传文件应使用 multipart/form-data '
                                                           '(send files as multipart/form-data)')
        return None
    limit = min(JSON_LIMIT, current_app.config.get('MAX_CONTENT_LENGTH') or JSON_LIMIT)
    if (request.content_length or 0) > limit:
        return envelope(413, 'too_large', f'请求体过大，JSON 最多 {limit // 1024} KB (request body too large)',
                        {'limit_bytes': limit})
    request.max_content_length = limit
    if mimetype != 'application/json' and not mimetype.endswith('+json'):
        return envelope(415, 'unsupported_media_type', '请求体应为 JSON，Content-Type: application/json '
                                                       '(send a JSON body with Content-Type: application/json)')
    body = request.get_data(cache=True)
    if request.content_length is None and len(body) >= limit:
        # a body without Content-Length (chunked) is read only up to the limit: reaching it means it was cut off
        return envelope(413, 'too_large', f'请求体过大，JSON 最多 {limit // 1024} KB (request body too large)',
                        {'limit_bytes': limit})
    return check_depth(body)


def check_depth(body):
    """Refuse a body that is not JSON (400), or JSON nested deeper than MAX_DEPTH, before any parser recurses."""
    try:
        stack = [(json.loads(body), 1)]
    except RecursionError:
        stack = [(None, MAX_DEPTH + 1)]
    except ValueError as err:      # malformed, not UTF-8, or a number with thousands of digits
        return envelope(400, 'bad_request', '请求体不是有效的 JSON (malformed JSON body)',
                        {'location': 'json', 'errors': [str(err)[:200]]})
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return envelope(400, 'bad_request', f'JSON 嵌套过深，最多 {MAX_DEPTH} 层 (JSON nested too deeply)',
                            {'max_depth': MAX_DEPTH})
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return None
