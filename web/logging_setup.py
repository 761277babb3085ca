"""Logging, configured once for both ways of serving the app: gunicorn applies `config()` (gunicorn.conf.py's
logconfig_dict) and the app factory applies the same when nothing has configured logging yet (`flask run`,
`flask --app web <command>`). Every line starts with the time in UTC (ISO 8601), the level and the logger; the
security log's lines (engine.security_log) carry who, what, which object and the outcome, and this module tells
it where the request came from: the client's address as the app sees it (behind CHUANGZHENG_PROXY_COUNT
trusted proxies, from X-Forwarded-For: web.security) and the signed-in person. Any other message is written as
one quoted, escaped field, so no text a client chose can start a line of its own."""
import datetime
import logging
import logging.config

from flask import g, has_request_context, request

from engine import security_log

field, log_safe = security_log.field, security_log.log_safe


def request_context():
    """{'client', 'user', 'username'} of the request being served ({} outside a request). The person is read
    only where the request already knows them (a token's owner, a session already loaded): logging never
    queries the database."""
    if not has_request_context():
        return {}
    values = {'client': request.remote_addr}
    user = g.get('api_actor') or getattr(g.get('_login_user'), 'user', None)
    if user is not None:
        values.update(user=user.id, username=user.username)
    return values


class Formatter(logging.Formatter):
    """`2026-12-03T08:15:02.123Z WARNING chuangzheng.security event=… outcome=… user=… client=… object=…`"""

    def formatTime(self, record, datefmt=None):
        moment = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        return moment.strftime('%Y-%m-%dT%H:%M:%S.') + f'{moment.microsecond // 1000:03d}Z'

    def format(self, record):
        if hasattr(record, 'security_event'):
            text = record.getMessage()          # already one line of escaped fields
        else:
            context = ' '.join(f'{key}={field(value)}' for key, value in request_context().items())
            text = (context + ' ' if context else '') + 'message=' + log_safe(record.getMessage(), 2000)
        line = f'{self.formatTime(record)} {record.levelname} {record.name} {text}'
        if record.exc_info:
            line += '\n' + self.formatException(record.exc_info)
        return line


def config():
    """The one logging configuration (logging.config.dictConfig): the app's loggers at INFO, everything through
    one handler on standard error in the format above. gunicorn keeps its own error and access logs."""
    return {
        'version': 1,
        'disable_existing_loggers': False,
        'formatters': {'chuangzheng': {'()': Formatter}},
        'handlers': {'stderr': {'class': 'logging.StreamHandler', 'formatter': 'chuangzheng',
                                'stream': 'ext://sys.stderr'}},
        'root': {'level': 'WARNING', 'handlers': ['stderr']},
        'loggers': {'chuangzheng': {'level': 'INFO'}},
    }


def init_app(app):
    """Tell the security log about requests; configure logging unless a server or a test harness already did
    (gunicorn has applied config() before the app is made; pytest captures the root logger itself)."""
    security_log.set_context(request_context)
    if not logging.getLogger().handlers:
        logging.config.dictConfig(config())
    elif logging.getLogger('chuangzheng').level == logging.NOTSET:
        logging.getLogger('chuangzheng').setLevel(logging.INFO)


def request_object():
    """The object a request names in its URL, e.g. 'participation#7' (None for none)."""
    args = request.view_args or {}
    if 'object_type' in args and 'object_id' in args:
        return f'{args["object_type"]}#{args["object_id"]}'
    for key, value in args.items():
        if key == 'record_id':                                # /api/v1/participations/<record_id> …
            return f'{(request.blueprint or "record").rstrip("s")}#{value}'
        if key.endswith('_id'):
            return f'{key[:-3]}#{value}'
    return None


def log_refused_request(outcome, reason=None, actor=None, level=logging.WARNING):
    """A request refused by the web layer itself (the engine logs the refusals it decides): the endpoint as the
    event, the object its URL names."""
    security_log.event(request.endpoint or request.path, outcome, actor=actor, obj=request_object(),
                       reason=reason, level=level)


def log_refusal(err):
    """An engine error answered to a client, unless it was logged where it was decided."""
    if getattr(err, 'logged', False):
        return
    err.logged = True
    log_refused_request(err.code, err.message, level=logging.WARNING if err.status in (401, 403, 429)
                        else logging.INFO)
