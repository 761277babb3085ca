"""The JSON API under /api/v1: flask-smorest blueprints over the engine, authenticated by personal API tokens,
with an OpenAPI 3 document generated from the schemas and routes (/api/v1/openapi.json) and a docs page
(/api/v1/docs) that needs nothing from the internet."""
import http
import os

from apispec import BasePlugin
from flask_smorest import Api

from ..extensions import csrf
from . import campaigns, docs, errors, evidence, objects, org, records

PREFIX = '/api/v1'
BLUEPRINTS = (org.bp, campaigns.bp, *records.BLUEPRINTS, evidence.bp, objects.bp, objects.inbox_bp, objects.audit_bp)
SECURITY_SCHEME = {'type': 'http', 'scheme': 'bearer', 'description': 'A personal API token: create one on the '
                   'page 「API 令牌」 (/account/tokens) and send `Authorization: Bearer <token>`.'}


class CommonResponses(BasePlugin):
    """Names in every operation the refusals any request may meet (all in the one error envelope)."""
    EVERY = (401, 403, 404, 429)
    WRITES = (409, 413, 415)

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault('responses', {})
            for status in self.EVERY + (self.WRITES if method in ('post', 'put') else ()):
                responses.setdefault(str(status), http.HTTPStatus(status).name)


class ChuangzhengApi(Api):
    """flask-smorest's Api with our error envelope, documented as the answer of every failure."""
    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self):
        errors.install(self._app)


def init_api(app):
    app.config.setdefault('API_PREFIX', PREFIX)
    app.config.setdefault('API_RATE_LIMIT', int(os.environ.get('CHUANGZHENG_API_RATE_LIMIT', '600')))
    app.config.setdefault('API_RATE_WINDOW', int(os.environ.get('CHUANGZHENG_API_RATE_WINDOW', '60')))
    app.config.update(
        API_TITLE='Chuangzheng 创争 API', API_VERSION='1', OPENAPI_VERSION='3.0.3', OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH='openapi.json',
        API_SPEC_OPTIONS={'security': [{'bearerAuth': []}], 'info': {'description': docs.DESCRIPTION}})
    app.json.ensure_ascii = False    # Chinese stays readable in curl (JSON is UTF-8 by definition)
    api = ChuangzhengApi(app, spec_kwargs={'extra_plugins': [CommonResponses()]})
    api.spec.components.security_scheme('bearerAuth', SECURITY_SCHEME)
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
        csrf.exempt(bp)     # safe: API requests are authenticated by the Authorization header only
    app.register_blueprint(docs.bp)

    from ..views import account  # the UI page where people create and revoke their tokens
    app.register_blueprint(account.bp)
    return api
