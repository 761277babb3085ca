"""HTTP-level protections in one place: the security headers of every response (pages, API, static files,
errors, downloads), the client's address behind trusted proxies, upload buffers closed even when a body is
refused half-way, which redirect targets are local, and how client-supplied words go into a log line.

Content-Security-Policy: scripts only from this site (web/static/app.js and the vendored mermaid.js; the
templates have no inline script and no on* attribute); styles from this site plus inline styles, because the
templates use style="" attributes, the API docs page has a <style> block and mermaid writes a <style> into
every SVG it draws; nothing may frame the pages; forms post only here.

The Server header is added by the HTTP server, not by the app: gunicorn sends "Server: gunicorn" without a
version, which gunicorn.conf.py replaces by a neutral name; Werkzeug's development server
("Werkzeug/x Python/y") is for development only."""
import re
import urllib.parse

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import security_log

log_safe = security_log.log_safe     # how client-supplied words go into a log line

CSP = '; '.join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    'Content-Security-Policy': CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    # Same-origin pages still get the full Referer (a refused form goes back to the page it came from);
    # other sites get nothing.
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
}
HSTS = 'max-age=31536000'


def add_headers(response, https=False):
    for name, value in HEADERS.items():
        response.headers[name] = value
    if https:
        response.headers['Strict-Transport-Security'] = HSTS
    response.headers.pop('Server', None)
    return response


class Request(flask.Request):
    """Flask's request, closing every upload buffer it opened, also those of a multipart body refused half-way
    (e.g. a chunked upload past the size limit, whose part already read is in no `request.files`)."""

    def _get_file_stream(self, *args, **kwargs):
        stream = super()._get_file_stream(*args, **kwargs)
        self.__dict__.setdefault('_upload_buffers', []).append(stream)
        return stream

    def close(self):
        super().close()
        for stream in self.__dict__.pop('_upload_buffers', ()):
            stream.close()


FORM_LIMIT = 1024 * 1024     # a url-encoded form (no file) of the UI: its longest text is 20 000 characters


def limit_plain_forms():
    """Werkzeug bounds a multipart form's parts and memory, but reads a url-encoded body whole, however many
    fields it holds: only the request limit (25 MB, sized for uploads) would stop it. No UI form without a
    file comes near 1 MB (20 000 Chinese characters, percent-encoded, are 180 KB)."""
    request = flask.request
    if request.mimetype == 'application/x-www-form-urlencoded':
        limit = flask.current_app.config.get('MAX_CONTENT_LENGTH')
        request.max_content_length = limit = min(FORM_LIMIT, limit) if limit else FORM_LIMIT
        # A body without Content-Length (chunked) is read only up to the limit, and Werkzeug drops the rest
        # without a word: the form would be parsed from what was cut off. Reaching the limit means that.
        if request.content_length is None and len(request.get_data(cache=True, parse_form_data=False)) >= limit:
            flask.abort(413)


def init_app(app):
    """Every response gets the security headers; behind CHUANGZHENG_PROXY_COUNT trusted proxies the client's
    address is taken from X-Forwarded-For (login throttling per address needs the real one); url-encoded
    forms are limited before anything (the CSRF check included) reads them."""
    app.request_class = Request
    app.before_request_funcs.setdefault(None, []).insert(0, limit_plain_forms)
    https = bool(app.config.get('SESSION_COOKIE_SECURE'))
    app.after_request(lambda response: add_headers(response, https))
    proxies = int(app.config.get('PROXY_COUNT') or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


_NOT_IN_A_LOCAL_PATH = re.compile(r'[\\\x00-\x1f\x7f]')


def local_path(target):
    """`target` if it is a path on this site, else None: one leading slash, and no backslash or control
    character (browsers and urllib drop tabs and newlines, so "/\t/evil.example" would become
    "//evil.example"; a newline would split the Location header)."""
    if (not isinstance(target, str) or not target.startswith('/') or target.startswith('//')
            or _NOT_IN_A_LOCAL_PATH.search(target)):
        return None
    parts = urllib.parse.urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


